"""nn.onnx.export of the recurrent layers (nn.RNN, nn.LSTM, nn.GRU and their cells): each layer
and direction the engine runs (one `recurrence` op) becomes ONNX's RNN, LSTM or GRU with the
gates in ONNX's order.

Three levels, so that what CI runs (NumPy only) still checks the part that can go silently
wrong, the gate order:
- NumPy only: ONNX's equations, written here from the operator specification (onnx.ai,
  Operators: RNN, LSTM, GRU), run on the engine's weights reordered by `gate_rows`, equal the
  engine's recurrence; the export's trace accepts the zero initial states and refuses a packed
  batch and the LSTM's projection by name.
- onnx (no ONNX Runtime): the written graph's nodes, attributes, initializers (names, shapes,
  the rows reordered), and the spec's equations run on the file's own initializers.
- ONNX Runtime: every configuration (layer kind x layers (dropout between them) x direction x
  batch_first x bias x initial state), two seeds, sequence length 1 among them, against the
  engine's forward in evaluation mode, rtol 1e-5 (float32; atol 1e-6 for outputs near 0).
"""

import itertools

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from nn.functional.recurrent import Recurrence
from nn.onnx.ops import gate_rows
from nn.onnx.trace import check_constants, trace_model
from nn.recurrent import RNNCellBase
from nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

RTOL, ATOL = 1e-5, 1e-6
MODES = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]


# -- ONNX's equations (the operator specification), in NumPy ----------------------------------


def flat(out):
    """A layer's (output, (h_n, c_n)) as [output, h_n, c_n], as the export lists them."""
    return [v for o in out for v in flat(o)] if isinstance(out, tuple | list) else [out]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def onnx_spec(op, x, w, r, b, h0, c0, *, reverse, activation="Tanh"):
    """ONNX's RNN / LSTM / GRU (linear_before_reset=1) for one direction: x (T, B, I),
    w (gates*H, I), r (gates*H, H), b (2*gates*H,) [Wb; Rb], h0 and c0 (B, H); gate blocks in
    ONNX's order (LSTM i, o, f, c; GRU z, r, h). Returns Y (T, B, H), Y_h, Y_c."""
    hidden = r.shape[1]
    wb, rb = np.split(b, 2)
    h, c = h0, c0
    y = np.empty((x.shape[0], x.shape[1], hidden), x.dtype)
    for t in (range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])):
        xw = np.split(x[t] @ w.T + wb, w.shape[0] // hidden, axis=1)
        hr = np.split(h @ r.T + rb, w.shape[0] // hidden, axis=1)
        if op == "LSTM":
            i, o, f = (_sigmoid(a + b_) for a, b_ in zip(xw[:3], hr[:3]))
            c = f * c + i * np.tanh(xw[3] + hr[3])
            h = o * np.tanh(c)
        elif op == "GRU":  # ht = tanh(Xt Wh + Wbh + rt (.) (Ht-1 Rh + Rbh)), linear_before_reset
            z, rt = _sigmoid(xw[0] + hr[0]), _sigmoid(xw[1] + hr[1])
            hh = np.tanh(xw[2] + rt * hr[2])
            h = (1 - z) * hh + z * h
        else:
            a = xw[0] + hr[0]
            h = np.tanh(a) if activation == "Tanh" else np.maximum(a, 0)
        y[t] = h
    return y, h, c


def engine_weights(rng, mode, i, hidden, bias):
    rows = {"LSTM": 4, "GRU": 3}.get(mode, 1) * hidden
    w_ih, w_hh = rng.standard_normal((rows, i)) * 0.5, rng.standard_normal((rows, hidden)) * 0.5
    b_ih, b_hh = ((rng.standard_normal(rows) * 0.5, rng.standard_normal(rows) * 0.5) if bias
                  else (None, None))
    return w_ih, w_hh, b_ih, b_hh


@pytest.mark.parametrize("mode,reverse,bias", list(itertools.product(
    MODES, [False, True], [True, False])))
def test_the_engines_gates_in_onnxs_order_give_onnxs_equations_its_result(mode, reverse, bias):
    """gate_rows is what the export writes: a wrong order (PyTorch's i, f, g, o read as
    ONNX's i, o, f, c; r and z swapped) makes other numbers, silently."""
    rng = np.random.default_rng(3)
    t, b, i, hidden = 5, 3, 4, 6
    x, h0, c0 = (rng.standard_normal(s) for s in ((t, b, i), (b, hidden), (b, hidden)))
    w_ih, w_hh, b_ih, b_hh = engine_weights(rng, mode, i, hidden, bias)
    lstm = mode == "LSTM"
    got = Recurrence.apply(*(ad.tensor(a) if a is not None else None for a in
                             (x, h0, c0 if lstm else None, w_ih, w_hh, b_ih, b_hh)),
                           mode=mode, reverse=reverse)
    rows = gate_rows(mode, hidden)
    b = (np.concatenate([b_ih[rows], b_hh[rows]]) if bias else np.zeros(2 * rows.size))
    op = {"LSTM": "LSTM", "GRU": "GRU"}.get(mode, "RNN")
    want = onnx_spec(op, x, w_ih[rows], w_hh[rows], b, h0, c0, reverse=reverse,
                     activation="Relu" if mode == "RNN_RELU" else "Tanh")
    for g, w in zip(got, want[:3 if lstm else 2], strict=True):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-12, atol=1e-12)


def test_gate_rows_are_onnxs_blocks():
    """LSTM i, f, g, o -> i, o, f, c; GRU r, z, n -> z, r, h; RNN as it is (H = 2)."""
    assert gate_rows("LSTM", 2).tolist() == [0, 1, 6, 7, 2, 3, 4, 5]
    assert gate_rows("GRU", 2).tolist() == [2, 3, 0, 1, 4, 5]
    assert gate_rows("RNN_RELU", 2).tolist() == [0, 1]


# -- the trace (NumPy only) ----------------------------------------------------------------


@pytest.mark.parametrize("layer", [nn.LSTM, nn.GRU, nn.RNN, nn.LSTMCell, nn.GRUCell,
                                   nn.RNNCell])
def test_the_zero_initial_state_is_not_taken_for_a_value_computed_outside_the_graph(layer):
    """The layer's zeros (batch, hidden) differ in shape on the second, larger batch: the
    export refused them as 'a value computed from the input outside the graph'."""
    shape = (2, 3) if "Cell" in layer.__name__ else (2, 5, 3)
    kw = {} if "Cell" in layer.__name__ else {"batch_first": True}
    traced = trace_model(layer(3, 4, **kw), np.ones(shape, np.float32), True)
    calls = [c for c in traced.calls if c.op == "recurrence"]
    assert len(calls) == 1
    check_constants(traced, calls[0])


def test_only_a_zero_state_is_left_out():
    """Zeros are left out (ONNX's default); another constant of the batch's size would be
    frozen at the example's batch, and is still refused."""

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.GRU(3, 4, batch_first=True), nn.GRU(4, 4, batch_first=True)

        def forward(self, x):
            return self.b(self.a(x)[0], ad.ones((1, x.shape[0], 4)) * 0.5)[0]

    traced = trace_model(Two(), np.ones((2, 5, 3), np.float32), True)
    zeros, ones = [c for c in traced.calls if c.op == "recurrence"]
    check_constants(traced, zeros)
    with pytest.raises(NotImplementedError, match=r"'recurrence' made in module 'b' \(GRU\): "
                                                  r"its argument 1 \(shape \(2, 4\)\) changes"):
        check_constants(traced, ones)


class Packed(nn.Module):
    def __init__(self, rnn, lengths):
        super().__init__()
        self.rnn, self.lengths = rnn, lengths

    def forward(self, x):
        out, _ = self.rnn(pack_padded_sequence(x, self.lengths, batch_first=True))
        return pad_packed_sequence(out, batch_first=True)[0]


@pytest.mark.parametrize("layer", [nn.RNN, nn.LSTM, nn.GRU])
def test_a_packed_batch_is_refused_by_name(layer):
    """With a fixed batch the packed runs (one recurrence per run of equal lengths, the
    lengths frozen at the example's) traced as a graph of their own."""
    model = Packed(layer(3, 4, batch_first=True), [5, 3])
    with pytest.raises(NotImplementedError, match=rf"module 'rnn' \({layer.__name__}\): a "
                                                  r"PackedSequence input is not exported"):
        trace_model(model, np.ones((2, 5, 3), np.float32), False)
    assert model.training  # the modes and the hooks are put back
    assert not model.rnn._forward_pre_hooks


def test_the_lstm_projection_is_refused_by_name():
    """proj_size: the layer runs its steps in engine ops, refused at the first product as
    'a value computed outside the graph' (the zero h0)."""
    model = nn.LSTM(3, 4, proj_size=2, batch_first=True)
    with pytest.raises(NotImplementedError, match=r"the model's own forward \(LSTM\): "
                                                  r"proj_size=2 is not exported: ONNX's LSTM "
                                                  r"has no projection"):
        trace_model(model, np.ones((2, 5, 3), np.float32), True)
    assert not model._forward_pre_hooks


# -- the written graph (onnx, no ONNX Runtime) ------------------------------------------------


class Recurrent(nn.Module):
    """A recurrent layer with its initial state: none (zeros), computed from the input
    ('graph': tanh of a product of the sum over time, a graph value), or a buffer
    ('constant', (layers * directions, batch, H): the batch fixed)."""

    def __init__(self, rnn, states=None, batch=2):
        super().__init__()
        self.rnn, self.states = rnn, states
        cell = isinstance(rnn, RNNCellBase)
        n = 1 if cell else rnn.num_layers * (2 if rnn.bidirectional else 1)
        hidden, count = rnn.hidden_size, 2 if rnn.mode == "LSTM" else 1
        rng = np.random.default_rng(7)
        if states == "graph":
            self.to_states = nn.Parameter(rng.standard_normal(
                (count, rnn.input_size, n * hidden)).astype(np.float32) * 0.3)
        if states == "constant":  # a buffer: no graph value, even for its slices
            self.register_buffer("h0", ad.tensor(rng.standard_normal(
                (count, n, batch, hidden)).astype(np.float32) * 0.5))

    def forward(self, x):
        hx = None
        if self.states == "graph":
            cell = isinstance(self.rnn, RNNCellBase)
            s = x if cell else x.sum(axis=1 if self.rnn.batch_first else 0)  # (B, I)
            hx = [ad.tanh(s @ a) for a in self.to_states]
            if not cell:
                hx = [h.reshape(s.shape[0], -1, self.rnn.hidden_size).transpose(1, 0, 2)
                      for h in hx]
        elif self.states == "constant":
            hx = list(self.h0)
        if hx is not None:
            hx = tuple(hx) if len(hx) == 2 else hx[0]
        return self.rnn(x, hx)


def _proto(model, shape, tmp_path, **options):
    onnx = pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not "
                                              "installed")
    rng = np.random.default_rng(0)
    path = nn.onnx.export(model, rng.standard_normal(shape).astype(np.float32),
                          tmp_path / "rnn.onnx", **options)
    return onnx.load(str(path))


def _initializers(proto):
    from onnx import numpy_helper

    return {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}


def _attrs(node):
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def test_a_bidirectional_two_layer_lstm_is_a_node_per_layer_and_direction(tmp_path):
    ad.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    proto = _proto(lstm, (2, 5, 3), tmp_path)
    assert [n.op_type for n in proto.graph.node] == [
        "Transpose", *["LSTM", "Squeeze", "Squeeze", "Squeeze"] * 2, "Concat",
        *["LSTM", "Squeeze", "Squeeze", "Squeeze"] * 2, "Concat",
        *["Reshape"] * 4, "Concat", *["Reshape"] * 4, "Concat", "Transpose"]
    nodes = [n for n in proto.graph.node if n.op_type == "LSTM"]
    assert [n.name for n in nodes] == ["LSTM", "LSTM_1", "LSTM_2", "LSTM_3"]
    assert [_attrs(n) for n in nodes] == [{"hidden_size": 4, "direction": d} for d in
                                          (b"forward", b"reverse") * 2]
    assert [list(n.input) for n in nodes[:2]] == [
        ["Transpose:0", "W_l0", "R_l0", "B_l0"],
        ["Transpose:0", "W_l0_reverse", "R_l0_reverse", "B_l0_reverse"]]
    assert [o.name for o in proto.graph.output] == ["output", "output_1", "output_2"]
    init = _initializers(proto)
    assert {k: v.shape for k, v in init.items() if k[0] in "WRB"} == {
        "W_l0": (1, 16, 3), "R_l0": (1, 16, 4), "B_l0": (1, 32),
        "W_l0_reverse": (1, 16, 3), "R_l0_reverse": (1, 16, 4), "B_l0_reverse": (1, 32),
        "W_l1": (1, 16, 8), "R_l1": (1, 16, 4), "B_l1": (1, 32),
        "W_l1_reverse": (1, 16, 8), "R_l1_reverse": (1, 16, 4), "B_l1_reverse": (1, 32)}
    # ONNX's i, o, f, c: PyTorch's blocks 0, 3, 1, 2 (written out here, not by gate_rows)
    i, f, g, o = np.split(lstm.weight_ih_l1_reverse.detach().numpy(), 4)
    np.testing.assert_array_equal(init["W_l1_reverse"][0], np.concatenate([i, o, f, g]))
    bi, bh = (np.split(b.detach().numpy(), 4) for b in (lstm.bias_ih_l0, lstm.bias_hh_l0))
    np.testing.assert_array_equal(init["B_l0"][0], np.concatenate(
        [bi[0], bi[3], bi[1], bi[2], bh[0], bh[3], bh[1], bh[2]]))


def test_a_gru_resets_before_its_product_and_swaps_r_and_z(tmp_path):
    ad.manual_seed(0)
    gru = nn.GRU(3, 4)
    proto = _proto(Recurrent(gru), (5, 2, 3), tmp_path)
    (node,) = [n for n in proto.graph.node if n.op_type == "GRU"]
    assert _attrs(node) == {"hidden_size": 4, "direction": b"forward", "linear_before_reset": 1}
    r, z, n = np.split(gru.weight_hh_l0.detach().numpy(), 3)
    np.testing.assert_array_equal(_initializers(proto)["rnn/R_l0"][0],
                                  np.concatenate([z, r, n]))


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_an_rnn_names_its_activation(nonlinearity, tmp_path):
    proto = _proto(nn.RNN(3, 4, nonlinearity=nonlinearity), (5, 2, 3), tmp_path)
    (node,) = [n for n in proto.graph.node if n.op_type == "RNN"]
    assert _attrs(node)["activations"] == [nonlinearity.capitalize().encode()]


def test_without_bias_or_states_the_node_has_three_inputs(tmp_path):
    proto = _proto(nn.GRU(3, 4, bias=False), (5, 2, 3), tmp_path)
    (node,) = [n for n in proto.graph.node if n.op_type == "GRU"]
    assert list(node.input) == ["input", "W_l0", "R_l0"]
    assert sorted(_initializers(proto)) == ["R_l0", "W_l0", "axes0", "axes1", "shape"]


def test_given_states_are_the_nodes_initial_states(tmp_path):
    proto = _proto(Recurrent(nn.LSTM(3, 4, batch_first=True), "graph"), (2, 5, 3), tmp_path)
    (node,) = [n for n in proto.graph.node if n.op_type == "LSTM"]
    producers = {o: n.op_type for n in proto.graph.node for o in n.output}
    assert len(node.input) == 7 and node.input[4] == ""  # no sequence_lens
    assert [producers[v] for v in node.input[5:]] == ["Unsqueeze", "Unsqueeze"]
    proto = _proto(Recurrent(nn.LSTM(3, 4), "constant"), (5, 2, 3), tmp_path)
    (node,) = [n for n in proto.graph.node if n.op_type == "LSTM"]
    assert list(node.input[5:]) == ["rnn/initial_h", "rnn/initial_c"]
    assert _initializers(proto)["rnn/initial_c"].shape == (1, 2, 4)


@pytest.mark.parametrize("cell", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_a_cell_is_one_step(cell, tmp_path):
    proto = _proto(cell(3, 4), (2, 3), tmp_path)
    op = cell.__name__[:-4]
    assert [n.op_type for n in proto.graph.node] == ["Reshape", op, "Squeeze",
                                                     *(["Squeeze"] if op == "LSTM" else [])]


@pytest.mark.parametrize("mode", MODES)
def test_the_files_own_weights_give_the_engines_result_by_onnxs_equations(mode, tmp_path):
    """The file read back (no ONNX Runtime): each node's W, R, B and initial states run
    through ONNX's equations give the engine's output and final states, both directions."""
    ad.manual_seed(1)
    kind = {"LSTM": nn.LSTM, "GRU": nn.GRU}.get(mode, nn.RNN)
    kw = {"nonlinearity": "relu"} if mode == "RNN_RELU" else {}
    model = Recurrent(kind(3, 4, bidirectional=True, **kw), "constant")
    proto = _proto(model, (5, 2, 3), tmp_path)
    init = _initializers(proto)
    x = np.random.default_rng(2).standard_normal((5, 2, 3)).astype(np.float32)
    model.eval()
    with ad.no_grad():
        out, *states = flat(model(ad.tensor(x)))
    nodes = [n for n in proto.graph.node if n.op_type in ("RNN", "LSTM", "GRU")]
    assert len(nodes) == 2
    for d, node in enumerate(nodes):
        w, r, b, h0, *c0 = (init[v][0] for v in (*node.input[1:4], *node.input[5:]))
        activation = _attrs(node).get("activations", [b"Tanh"])[0].decode()
        y, h, c = onnx_spec(node.op_type, x, w, r, b, h0, *c0 or [None], reverse=d == 1,
                            activation=activation)
        np.testing.assert_allclose(y, out.numpy()[..., 4 * d:4 * d + 4], rtol=RTOL, atol=ATOL)
        for want, got in zip(states, (h, c)):
            np.testing.assert_allclose(got, want.numpy()[d], rtol=RTOL, atol=ATOL)


# -- ONNX Runtime: every configuration ---------------------------------------------------------


def _layer(mode, layers, bidirectional, batch_first, bias):
    kind = {"LSTM": nn.LSTM, "GRU": nn.GRU}.get(mode, nn.RNN)
    kw = {"nonlinearity": "relu"} if mode == "RNN_RELU" else {}
    if layers == "2-dropout":
        kw["dropout"] = 0.3
    return kind(3, 4, num_layers=1 if layers == 1 else 2, bidirectional=bidirectional,
                batch_first=batch_first, bias=bias, **kw)


def engine(model, x):
    """The model's outputs in evaluation mode, flattened; its mode put back."""
    mode = model.training
    model.eval()
    with ad.no_grad():
        out = flat(model(ad.tensor(x)))
    model.train(mode)
    return [o.numpy() for o in out]


def compare(model, example, inputs, tmp_path, **options):
    """Export on `example`, run the file on each of `inputs` with ONNX Runtime, compare every
    output with the engine's; returns the largest absolute difference."""
    ort = pytest.importorskip("onnxruntime", reason="the optional extra 'export' "
                                                    "(onnxruntime) is not installed")
    onnx = pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not "
                                              "installed")
    path = nn.onnx.export(model, example, tmp_path / "rnn.onnx", **options)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for x in inputs:
        got, want = session.run(None, {"input": x}), engine(model, x)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL)
            worst = max(worst, float(np.abs(g - w).max()))
    return worst


CONFIGS = list(itertools.product(MODES, [1, 2, "2-dropout"], [False, True], [False, True],
                                 [True, False], [None, "graph", "constant"]))
QUICK = {(m, *rest) for m in MODES for rest in [(1, False, False, True, None),
                                                ("2-dropout", True, True, False, "graph"),
                                                (2, True, False, True, "constant")]}


@pytest.mark.parametrize("mode,layers,bidirectional,batch_first,bias,states", [
    c if c in QUICK else pytest.param(*c, marks=pytest.mark.slow) for c in CONFIGS])
def test_every_configuration_matches_onnx_runtime(mode, layers, bidirectional, batch_first,
                                                  bias, states, tmp_path):
    """Two seeds (weights and inputs), the example 1 step long for the first, 5 for the
    second. batch_first: the batch axis is the dynamic one (run at 1 and 3 examples; fixed at
    the example's 2 with a constant state, which holds it); seq-first: the input's first axis
    is time, and the file runs at 1 and 6 steps. A model left in training mode (dropout
    between layers) exports its evaluation (the export runs in evaluation mode)."""
    for seed, steps in ((0, 1), (1, 5)):
        ad.manual_seed(seed)
        model = Recurrent(_layer(mode, layers, bidirectional, batch_first, bias), states)
        model.train(layers == "2-dropout")
        rng = np.random.default_rng(seed)

        def batch(n, t, rng=rng):
            return rng.standard_normal((n, t, 3) if batch_first else (t, n, 3)).astype(
                np.float32)

        fixed = batch_first and states == "constant"
        runs = ([batch(2, steps)] if fixed else [batch(1, steps), batch(3, steps)]
                if batch_first else [batch(2, 1), batch(2, 6)])
        compare(model, batch(2, steps), runs, tmp_path, dynamic_batch=not fixed)
        assert model.training == (layers == "2-dropout")


@pytest.mark.parametrize("cell,bias,states", list(itertools.product(
    [nn.RNNCell, nn.LSTMCell, nn.GRUCell], [True, False], [None, "graph"])))
def test_every_cell_matches_onnx_runtime(cell, bias, states, tmp_path):
    for seed in (0, 1):
        ad.manual_seed(seed)
        kw = {"nonlinearity": "relu"} if cell is nn.RNNCell and seed else {}
        model = Recurrent(cell(3, 4, bias=bias, **kw), states)
        rng = np.random.default_rng(seed)
        x = [rng.standard_normal((n, 3)).astype(np.float32) for n in (2, 1, 3)]
        compare(model, x[0], x[1:], tmp_path)


def test_an_unbatched_sequence_runs_at_any_length(tmp_path):
    """(T, input_size): the first axis, time, is the dynamic one."""
    ad.manual_seed(0)
    rng = np.random.default_rng(0)
    x = [rng.standard_normal((t, 3)).astype(np.float32) for t in (4, 1, 9)]
    compare(nn.LSTM(3, 4, num_layers=2, bidirectional=True), x[0], x[1:], tmp_path)


class Computed(nn.Module):
    """Weights computed in the graph (a scale times the parameters), the layer run
    functionally: the gates reordered by Gather, the biases joined by Concat."""

    def __init__(self, mode, b_ih, b_hh):
        super().__init__()
        rows = {"LSTM": 4, "GRU": 3}.get(mode, 1) * 4
        rng = np.random.default_rng(5)
        self.mode, self.scale = mode, nn.Parameter(np.float32(0.9))
        for name, shape in (("w_ih", (rows, 3)), ("w_hh", (rows, 4)), ("b_ih", (rows,) if b_ih
                            else None), ("b_hh", (rows,) if b_hh else None)):
            setattr(self, name, None if shape is None else nn.Parameter(
                rng.standard_normal(shape).astype(np.float32) * 0.5))

    def forward(self, x):
        zeros = ad.zeros((x.shape[1], 4))
        return Recurrence.apply(x, zeros, zeros if self.mode == "LSTM" else None,
                                self.w_ih * self.scale, self.w_hh * self.scale,
                                None if self.b_ih is None else self.b_ih * self.scale,
                                self.b_hh, mode=self.mode, reverse=True)


@pytest.mark.parametrize("mode,b_ih,b_hh", [("LSTM", True, True), ("GRU", True, False),
                                            ("RNN_TANH", False, True),
                                            ("RNN_RELU", False, False)])
def test_weights_computed_in_the_graph(mode, b_ih, b_hh, tmp_path):
    rng = np.random.default_rng(0)
    x = [rng.standard_normal((t, 2, 3)).astype(np.float32) for t in (5, 1, 7)]
    compare(Computed(mode, b_ih, b_hh), x[0], x[1:], tmp_path)


@pytest.mark.parametrize("opset", [13, 14, 17, "newest"])
def test_opsets(opset, tmp_path):
    onnx = pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not "
                                              "installed")
    opset = onnx.defs.onnx_opset_version() if opset == "newest" else opset
    rng = np.random.default_rng(0)
    x = [rng.standard_normal((2, 5, 3)).astype(np.float32) for _ in range(2)]
    compare(nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True), x[0], x[1:],
            tmp_path, opset=opset)


# -- refusals through the export --------------------------------------------------------------


def test_refusals_name_the_layer(tmp_path):
    pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not installed")
    x = np.ones((2, 5, 3), np.float32)
    with pytest.raises(NotImplementedError, match=r"module 'rnn' \(LSTM\): a PackedSequence"):
        nn.onnx.export(Packed(nn.LSTM(3, 4, batch_first=True), [5, 3]), x, tmp_path / "m.onnx",
                       dynamic_batch=False)
    with pytest.raises(NotImplementedError, match=r"module 'rnn' \(LSTM\): proj_size=3 is not "
                                                  r"exported"):
        nn.onnx.export(Recurrent(nn.LSTM(3, 4, proj_size=3, batch_first=True)), x,
                       tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_dropout_in_training_between_recurrent_layers_is_refused(tmp_path):
    """Dropout called with training=True (not a layer's, which the export's evaluation mode
    turns off) is a random mask, which would be frozen in the file."""
    pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not installed")

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.GRU(3, 4, batch_first=True), nn.GRU(4, 4, batch_first=True)

        def forward(self, x):
            return self.b(F.dropout(self.a(x)[0], 0.5, training=True))[0]

    with pytest.raises(NotImplementedError, match=r"'mul' made in the model's own forward "
                                                  r"\(Two\): its argument 1 .* changes with"):
        nn.onnx.export(Two(), np.ones((2, 5, 3), np.float32), tmp_path / "m.onnx")


class Decoder(nn.Module):
    """An LSTMCell run at each step of a loop, its state carried: one node per step."""

    def __init__(self):
        super().__init__()
        self.cell = nn.LSTMCell(3, 4)

    def forward(self, x):
        state, outs = None, []
        for t in range(x.shape[1]):
            state = self.cell(x[:, t], state)
            outs.append(state[0])
        return ad.stack(outs, axis=1)


def test_a_cell_in_a_loop_writes_its_weights_once(tmp_path):
    """The reordered weights were written again for each step (the file grew with the
    number of steps)."""
    proto = _proto(Decoder(), (2, 6, 3), tmp_path)
    assert [n.op_type for n in proto.graph.node].count("LSTM") == 6
    made = [k for k in _initializers(proto) if k.startswith("cell/") and "shape" not in k]
    assert sorted(made) == ["cell/B", "cell/R", "cell/W", "cell/axes0"]
    rng = np.random.default_rng(0)
    x = [rng.standard_normal((n, 6, 3)).astype(np.float32) for n in (2, 1, 4)]
    compare(Decoder(), x[0], x[1:], tmp_path)


def test_a_state_of_the_examples_batch_size_names_the_second_pass():
    """A constant state holds the batch size: the second pass (one example more) failed with
    the layer's own shape error, naming a batch of 3 the user never gave."""
    model = Recurrent(nn.GRU(3, 4, batch_first=True), "constant")
    with pytest.raises(ValueError, match=r"nn.onnx.export: the model fails on a batch of 3, one "
                                         r"example more .* GRU: expected h_0 of shape "
                                         r"\(1, 3, 4\), got \(1, 2, 4\)\. .*dynamic_batch=False"):
        trace_model(model, np.ones((2, 5, 3), np.float32), True)
    trace_model(model, np.ones((2, 5, 3), np.float32), False)


class LastState(nn.Module):
    """A classifier on the last layer's final state: the outputs (T, B, H) are not used."""

    def __init__(self):
        super().__init__()
        self.rnn, self.head = nn.LSTM(3, 4, num_layers=2, batch_first=True), nn.Linear(4, 2)

    def forward(self, x):
        _, (h_n, _) = self.rnn(x)
        return self.head(h_n[-1])


def test_only_the_results_used_are_reshaped(tmp_path):
    ad.manual_seed(0)
    proto = _proto(LastState(), (2, 5, 3), tmp_path)
    lstm = [n for n in proto.graph.node if n.op_type == "LSTM"]
    consumers = {v for n in proto.graph.node for v in n.input}
    # layer 1's output and both c_n are not used (h_n of both: the engine stacks them)
    assert [[o in consumers for o in n.output] for n in lstm] == [[True, True, False],
                                                                  [False, True, False]]
    rng = np.random.default_rng(1)
    x = [rng.standard_normal((n, 5, 3)).astype(np.float32) for n in (2, 1, 4)]
    compare(LastState(), x[0], x[1:], tmp_path)
