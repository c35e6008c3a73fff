"""RNN, LSTM, GRU and their cells: against PyTorch (float64, values and gradients of the input,
the states and every parameter), and without it: the fused BPTT against the same recurrence
composed of engine ops, gradcheck and gradgradcheck, one step computed by hand per cell,
float32 kept, and every error path."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.testing import gradcheck, gradgradcheck
from nn.functional.recurrent import GATES, Recurrence, recurrence_composed

T, B, I, H = 4, 3, 3, 4
RNG = np.random.default_rng(0)
# (class, extra kwargs): the four recurrences
KINDS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})]
# (num_layers, bidirectional, batch_first, bias, initial states, unbatched)
CONFIGS = [(1, False, False, True, False, False), (2, False, True, True, True, False),
           (1, True, False, False, True, False), (2, True, True, True, False, False),
           (2, True, False, True, True, True), (1, False, True, True, False, True)]


def _inputs(cls, num_layers, bidirectional, batch_first, states, unbatched):
    shape = (T, I) if unbatched else (B, T, I) if batch_first else (T, B, I)
    x = RNG.standard_normal(shape)
    s_shape = (num_layers * (2 if bidirectional else 1), *(() if unbatched else (B,)), H)
    hx = None
    if states:
        hx = RNG.standard_normal(s_shape)
        if cls == "LSTM":
            hx = (hx, RNG.standard_normal(s_shape))
    return x, hx


def _run(model, x, hx, to_tensor, weights):
    """Forward, a weighted sum of every output, backward; returns outputs and input grads."""
    xt = to_tensor(x)
    hxt = None if hx is None else tuple(map(to_tensor, hx)) if isinstance(hx, tuple) \
        else to_tensor(hx)
    out, h = model(xt, hxt)
    outs = [out, *h] if isinstance(h, tuple) else [out, h]
    loss = sum((o * to_tensor(w)).sum() for o, w in zip(outs, weights))
    loss.backward()
    states = [] if hxt is None else list(hxt) if isinstance(hxt, tuple) else [hxt]
    return outs, [xt, *states]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k[0] + k[1].get("nonlinearity", ""))
def test_matches_pytorch(kind, config):
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra bench)")
    cls, extra = kind
    layers, bidi, batch_first, bias, states, unbatched = config
    kw = dict(num_layers=layers, bidirectional=bidi, batch_first=batch_first, bias=bias, **extra)
    theirs = getattr(torch.nn, cls)(I, H, **kw).double()
    ours = getattr(nn, cls)(I, H, dtype=np.float64, **kw)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x, hx = _inputs(cls, layers, bidi, batch_first, states, unbatched)
    with torch.no_grad():
        shapes = [o.shape for o in _flat(theirs(torch.tensor(x)))]
    weights = [RNG.standard_normal(s) for s in shapes]
    o1, in1 = _run(ours, x, hx, lambda a: ad.tensor(a, requires_grad=True), weights)
    o2, in2 = _run(theirs, x, hx, lambda a: torch.tensor(a, requires_grad=True), weights)
    for a, b in zip(o1, o2):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=0, atol=1e-10)
    for a, b in zip(in1, in2):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=0, atol=1e-10)
    grads = {k: p.grad.numpy() for k, p in theirs.named_parameters()}
    for k, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, grads[k], rtol=0, atol=1e-10, err_msg=k)


def _flat(res):
    out, h = res
    return [out, *h] if isinstance(h, tuple) else [out, h]


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k[0] + k[1].get("nonlinearity", ""))
def test_cells_match_pytorch(kind, batched):
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra bench)")
    cls, extra = kind
    theirs = getattr(torch.nn, cls + "Cell")(I, H, **extra).double()
    ours = getattr(nn, cls + "Cell")(I, H, dtype=np.float64, **extra)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = RNG.standard_normal((B, I) if batched else (I,))
    s = [RNG.standard_normal((B, H) if batched else (H,)) for _ in range(2)]
    hx = (s[0], s[1]) if cls == "LSTM" else s[0]
    outs = []
    for lib, mk in ((ours, lambda a: ad.tensor(a, requires_grad=True)),
                    (theirs, lambda a: torch.tensor(a, requires_grad=True))):
        xt, st = mk(x), [mk(a) for a in s]
        res = lib(xt, tuple(st) if cls == "LSTM" else st[0])
        res = res if isinstance(res, tuple) else (res,)
        sum((r * (i + 1.5)).sum() for i, r in enumerate(res)).backward()
        used = st if cls == "LSTM" else st[:1]
        outs.append([r.data if lib is ours else r.detach().numpy() for r in res]
                    + [t.grad.data if lib is ours else t.grad.numpy() for t in [xt, *used]]
                    + [p.grad.data if lib is ours else p.grad.numpy() for p in lib.parameters()])
    assert hx is not None
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


def _primitive_args(mode, t=T, b=B, i=I, h=H, scale=1.0):
    g = GATES[mode]
    shapes = [(t, b, i), (b, h), (b, h), (g * h, i), (g * h, h), (g * h,), (g * h,)]
    arrays = [RNG.standard_normal(s) * scale for s in shapes]
    if mode != "LSTM":
        arrays[2] = None
    return arrays


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("mode", list(GATES))
def test_fused_bptt_equals_composed_graph(mode, reverse):
    arrays = _primitive_args(mode)
    results = []
    for f in (Recurrence.apply, recurrence_composed):
        args = [None if a is None else ad.tensor(a, requires_grad=True) for a in arrays]
        outs = f(*args, mode=mode, reverse=reverse)
        sum((o * (k + 1.0) * o).sum() for k, o in enumerate(outs)).backward()
        results.append([o.data for o in outs] + [a.grad.data for a in args if a is not None])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", list(GATES))
def test_gradcheck_and_gradgradcheck(mode):
    args = [None if a is None else ad.tensor(a, requires_grad=True)
            for a in _primitive_args(mode, t=2, b=1, i=2, h=2, scale=0.5)]
    for reverse in (False, True):
        def f(*a, reverse=reverse):
            return Recurrence.apply(*a, mode=mode, reverse=reverse)
        assert gradcheck(f, *args)
    assert gradgradcheck(lambda *a: Recurrence.apply(*a, mode=mode, reverse=True), *args)


def test_gradcheck_through_a_bidirectional_two_layer_lstm():
    ad.manual_seed(0)
    lstm = nn.LSTM(2, 2, num_layers=2, bidirectional=True, batch_first=True, dtype=np.float64)
    x = ad.tensor(RNG.standard_normal((1, 3, 2)), requires_grad=True)
    h0, c0 = (ad.tensor(RNG.standard_normal((4, 1, 2)), requires_grad=True) for _ in range(2))
    assert gradcheck(lambda x, h0, c0: lstm(x, (h0, c0))[0], x, h0, c0)
    assert gradcheck(lambda w: nn.functional.recurrent.Recurrence.apply(
        x, h0[0], c0[0], w, lstm.weight_hh_l0, None, None, mode="LSTM", reverse=False)[0],
        lstm.weight_ih_l0)


def _sig(v):
    return 1 / (1 + math.exp(-v))


def _t(v):
    return ad.tensor(np.array([[v]]))


def _set(cell, **values):
    for k, v in values.items():
        getattr(cell, k).data[...] = v


def test_one_step_by_hand():
    x, h, c = 0.5, -0.3, 0.8
    rnn = nn.RNNCell(1, 1, dtype=np.float64)
    _set(rnn, weight_ih=0.7, weight_hh=-1.2, bias_ih=0.1, bias_hh=0.05)
    want = math.tanh(0.7 * x + 0.1 - 1.2 * h + 0.05)
    assert rnn(_t(x), _t(h)).item() == pytest.approx(want, abs=1e-15)
    relu = nn.RNNCell(1, 1, nonlinearity="relu", dtype=np.float64)
    _set(relu, weight_ih=-0.7, weight_hh=0.2, bias_ih=0.1, bias_hh=0.05)
    assert relu(_t(x), _t(h)).item() == 0.0

    lstm = nn.LSTMCell(1, 1, dtype=np.float64)  # rows i, f, g, o
    _set(lstm, weight_ih=[[0.1], [0.2], [0.3], [0.4]], weight_hh=[[-0.5], [0.6], [-0.7], [0.8]],
         bias_ih=[0.01, 0.02, 0.03, 0.04], bias_hh=[0.1, -0.2, 0.3, -0.4])
    i = _sig(0.1 * x + 0.01 - 0.5 * h + 0.1)
    f = _sig(0.2 * x + 0.02 + 0.6 * h - 0.2)
    g = math.tanh(0.3 * x + 0.03 - 0.7 * h + 0.3)
    o = _sig(0.4 * x + 0.04 + 0.8 * h - 0.4)
    c1 = f * c + i * g
    h1, c1_got = lstm(_t(x), (_t(h), _t(c)))
    assert (h1.item(), c1_got.item()) == pytest.approx((o * math.tanh(c1), c1), abs=1e-15)

    gru = nn.GRUCell(1, 1, dtype=np.float64)  # rows r, z, n
    _set(gru, weight_ih=[[0.1], [0.2], [0.3]], weight_hh=[[-0.5], [0.6], [-0.7]],
         bias_ih=[0.01, 0.02, 0.03], bias_hh=[0.1, -0.2, 0.9])
    r = _sig(0.1 * x + 0.01 - 0.5 * h + 0.1)
    z = _sig(0.2 * x + 0.02 + 0.6 * h - 0.2)
    n = math.tanh(0.3 * x + 0.03 + r * (-0.7 * h + 0.9))  # b_hn inside r * (...)
    got = gru(_t(x), _t(h)).item()
    assert got == pytest.approx((1 - z) * n + z * h, abs=1e-15)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_float32_stays_float32(cls):
    model = getattr(nn, cls)(3, 4, num_layers=2, bidirectional=True)
    x = ad.randn(5, 2, 3).requires_grad_()
    out, h = model(x)
    assert out.dtype == np.float32
    assert all(s.dtype == np.float32 for s in (h if isinstance(h, tuple) else (h,)))
    out.sum().backward()
    assert x.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


def test_parameters_names_shapes_and_init():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    shapes = {k: v.shape for k, v in lstm.named_parameters()}
    assert shapes["weight_ih_l0"] == (16, 3)
    assert shapes["weight_ih_l1_reverse"] == (16, 8)
    assert shapes["weight_hh_l1"] == (16, 4)
    assert shapes["bias_hh_l0_reverse"] == (16,)
    assert len(shapes) == 16
    assert [k for k, _ in nn.GRU(3, 4, bias=False).named_parameters()] == ["weight_ih_l0",
                                                                           "weight_hh_l0"]
    assert all(float(abs(p.data).max()) <= 0.5 for p in nn.RNN(3, 4).parameters())
    assert float(abs(nn.GRU(3, 400).weight_hh_l0.data).max()) > 0.045  # U(-0.05, 0.05)


def test_unbatched_equals_a_batch_of_one():
    gru = nn.GRU(3, 4, num_layers=2, bidirectional=True)
    x = ad.randn(5, 3)
    out, h = gru(x)
    out1, h1 = gru(x.reshape(5, 1, 3))
    np.testing.assert_array_equal(out.data, out1.data[:, 0])
    np.testing.assert_array_equal(h.data, h1.data[:, 0])


def test_dropout_between_layers_only_in_training():
    ad.manual_seed(0)
    lstm = nn.LSTM(3, 8, num_layers=2, dropout=0.5)
    x = ad.randn(4, 2, 3)
    lstm.eval()
    a, b = lstm(x)[0].data, lstm(x)[0].data
    np.testing.assert_array_equal(a, b)
    lstm.dropout = 0.0
    np.testing.assert_array_equal(lstm(x)[0].data, a)  # eval: as if no dropout
    lstm.dropout = 0.5
    lstm.train()
    assert not np.allclose(lstm(x)[0].data, a)
    with pytest.warns(UserWarning, match="num_layers=1"):
        nn.GRU(3, 4, dropout=0.2)


def test_writing_the_output_in_place_is_caught():
    rnn = nn.RNN(2, 3)
    out, _ = rnn(ad.randn(4, 1, 2))
    out[1] = 0.0
    with pytest.raises(RuntimeError, match="modified in place"):
        out.sum().backward()


@pytest.mark.parametrize("make, call, match", [
    (lambda: nn.LSTM(3, 4), lambda m: m(ad.randn(2, 3, 4, 3)), r"LSTM: expected input with 2"),
    (lambda: nn.LSTM(3, 4), lambda m: m(ad.randn(5, 2, 4)), r"input_size=3.*\(5, 2, 4\)"),
    (lambda: nn.GRU(3, 4, num_layers=2), lambda m: m(ad.randn(5, 2, 3), ad.zeros((1, 2, 4))),
     r"GRU: expected h_0 of shape \(2, 2, 4\), got \(1, 2, 4\)"),
    (lambda: nn.LSTM(3, 4), lambda m: m(ad.randn(5, 2, 3), (ad.zeros((1, 2, 4)),
                                                            ad.zeros((1, 3, 4)))),
     r"LSTM: expected c_0 of shape \(1, 2, 4\), got \(1, 3, 4\)"),
    (lambda: nn.GRU(3, 4), lambda m: m(ad.randn(5, 3), ad.zeros((1, 4, 4))),
     r"expected h_0 of shape \(1, 4\)"),
    (lambda: nn.RNNCell(3, 4), lambda m: m(ad.randn(2, 3), ad.zeros((3, 4))),
     r"RNNCell: expected h of shape \(2, 4\), got \(3, 4\)"),
    (lambda: nn.GRUCell(3, 4), lambda m: m(ad.randn(2, 2, 3)), r"GRUCell: expected input with 1"),
    (lambda: nn.LSTMCell(3, 4), lambda m: m(ad.randn(2, 5)), r"LSTMCell: input.shape\[-1\]"),
])
def test_bad_shapes(make, call, match):
    with pytest.raises(ValueError, match=match):
        call(make())


@pytest.mark.parametrize("call, match", [
    (lambda: nn.LSTM(3, 4)(ad.randn(5, 2, 3), ad.zeros((1, 2, 4))), r"LSTM: hx must be a tuple"),
    (lambda: nn.RNN(3, 4)(ad.randn(5, 2, 3), (ad.zeros((1, 2, 4)),) * 2), r"RNN: hx must be a"),
    (lambda: nn.LSTMCell(3, 4)(ad.randn(2, 3), ad.zeros((2, 4))), r"LSTMCell: hx must be a tuple"),
    (lambda: nn.GRU(3, 4)(ad.randn(5, 2, 3).astype(np.float64)), r"GRU: input has dtype float64"),
    (lambda: nn.RNN(3, 4)(ad.randn(5, 2, 3), ad.zeros((1, 2, 4), dtype=np.float64)),
     r"RNN: h_0 has dtype float64"),
])
def test_bad_states_and_dtypes(call, match):
    with pytest.raises(TypeError, match=match):
        call()


@pytest.mark.parametrize("make, match", [
    (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), r"RNN: nonlinearity must be 'tanh' or 'relu', "
                                                   r"got 'sigmoid'"),
    (lambda: nn.RNNCell(3, 4, nonlinearity="gelu"), r"RNNCell: nonlinearity .* got 'gelu'"),
    (lambda: nn.LSTM(3, 0), r"LSTM: hidden_size must be a positive int, got 0"),
    (lambda: nn.GRU(3, 4, num_layers=0), r"GRU: num_layers must be a positive int, got 0"),
    (lambda: nn.GRUCell(0, 4), r"GRUCell: input_size must be a positive int, got 0"),
    (lambda: nn.LSTM(3, 4, num_layers=2, dropout=1.5), r"LSTM: dropout must be .* got 1.5"),
    (lambda: nn.LSTM(3, 4, proj_size=4), r"LSTM: proj_size=4 must be smaller than "
                                         r"hidden_size=4"),
    (lambda: nn.LSTM(3, 4, proj_size=-1), r"LSTM: proj_size must be an int >= 0 .* got -1"),
    (lambda: nn.LSTM(3, 4, proj_size=True), r"LSTM: proj_size must be an int >= 0"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_repr():
    assert repr(nn.LSTM(3, 4, num_layers=2, batch_first=True)) == \
        "LSTM(3, 4, num_layers=2, batch_first=True)"
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == "RNNCell(3, 4, nonlinearity='relu')"


def test_hessian_through_the_primitive_equals_the_composed_graphs():
    x, h0, c0, w_ih, w_hh = (ad.tensor(a) for a in _primitive_args("LSTM", 3, 1, 2, 2, 0.5)[:5])

    def loss(w, f):
        return f(x, h0, c0, w, w_hh, None, None, mode="LSTM", reverse=True)[1].sum()

    fused = ad.hessian(lambda w: loss(w, Recurrence.apply))(w_ih)
    composed = ad.hessian(lambda w: loss(w, recurrence_composed))(w_ih)
    assert fused.shape == (8, 2, 8, 2)
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-12, atol=1e-12)


def test_a_second_backward_through_a_freed_graph_raises():
    _, h_n = nn.GRU(2, 3)(ad.randn(4, 1, 2))
    loss = h_n.sum()
    loss.backward(retain_graph=True)
    loss.backward()  # retained once: a second backward works
    with pytest.raises(RuntimeError, match="'recurrence' a second time"):
        loss.backward()
