"""RNN, LSTM and GRU on packed (variable-length) batches. Against PyTorch (float64: the packed
output, h_n, c_n and the gradients of the padded input, the initial states and every
parameter), and without it: each sequence run alone equals its part of the packed run (the
defining property), equal lengths give the padded run's values bit for bit, gradcheck and
gradgradcheck, float32 kept, and every error path."""

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.testing import gradcheck, gradgradcheck
from nn.functional.packed_recurrence import packed_recurrence, runs
from nn.functional.recurrent import GATES
from nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

I, H = 3, 4
RNG = np.random.default_rng(1)
KINDS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})]
# (num_layers, bidirectional, batch_first, initial states, lengths, enforce_sorted)
CONFIGS = [(1, False, False, False, [4, 2, 2, 1], True),
           (2, True, True, True, [2, 4, 1, 3], False),
           (1, True, False, True, [3, 1, 3], False),
           (2, False, True, False, [1, 3, 2], False)]


def _layer(cls, extra, layers, bidi, batch_first, dtype=np.float64):
    return getattr(nn, cls)(I, H, num_layers=layers, bidirectional=bidi,
                            batch_first=batch_first, dtype=dtype, **extra)


def _states(cls, layers, bidi, batch):
    shape = (layers * (2 if bidi else 1), batch, H)
    h = RNG.standard_normal(shape)
    return (h, RNG.standard_normal(shape)) if cls == "LSTM" else h


def _run(lib, model, pack, x, hx, lengths, batch_first, enforce_sorted, weights):
    """Pack, run, a weighted sum of the packed output and the final states, backward."""
    xt = lib.tensor(x, requires_grad=True)
    st = None if hx is None else [lib.tensor(s, requires_grad=True) for s in
                                  (hx if isinstance(hx, tuple) else (hx,))]
    packed = pack(xt, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    out, h = model(packed, None if st is None else tuple(st) if len(st) == 2 else st[0])
    outs = [out.data, *(h if isinstance(h, tuple) else (h,))]
    sum((o * lib.tensor(w)).sum() for o, w in zip(outs, weights)).backward()
    return outs, [xt, *(st or [])]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k[0] + k[1].get("nonlinearity", ""))
def test_matches_pytorch(kind, config):
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra bench)")
    from torch.nn.utils.rnn import pack_padded_sequence as torch_pack
    cls, extra = kind
    layers, bidi, batch_first, states, lengths, enforce_sorted = config
    if enforce_sorted:
        lengths = sorted(lengths, reverse=True)
    ours = _layer(cls, extra, layers, bidi, batch_first)
    theirs = getattr(torch.nn, cls)(I, H, num_layers=layers, bidirectional=bidi,
                                    batch_first=batch_first, **extra).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    b, t = len(lengths), max(lengths)
    x = RNG.standard_normal((b, t, I) if batch_first else (t, b, I))
    hx = _states(cls, layers, bidi, b) if states else None
    n_states = 2 if cls == "LSTM" else 1
    shapes = [(sum(lengths), (2 if bidi else 1) * H)] + [(layers * (1 + bidi), b, H)] * n_states
    weights = [RNG.standard_normal(s) for s in shapes]
    o1, in1 = _run(ad, ours, pack_padded_sequence, x, hx, lengths, batch_first,
                   enforce_sorted, weights)
    o2, in2 = _run(torch, theirs, torch_pack, x, hx, lengths, batch_first, enforce_sorted,
                   weights)
    for a, b_ in zip(o1, o2):
        np.testing.assert_allclose(a.data, b_.detach().numpy(), rtol=0, atol=1e-13)
    for a, b_ in zip(in1, in2):
        np.testing.assert_allclose(a.grad.data, b_.grad.numpy(), rtol=0, atol=1e-13)
    grads = {k: p.grad.numpy() for k, p in theirs.named_parameters()}
    for k, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, grads[k], rtol=0, atol=1e-13, err_msg=k)


@pytest.mark.parametrize("kind", KINDS[1:], ids=lambda k: k[0] + k[1].get("nonlinearity", ""))
def test_each_sequence_alone_equals_its_part_of_the_packed_run(kind):
    cls, extra = kind
    lengths = [2, 5, 1, 5, 3]
    model = _layer(cls, extra, 2, True, True)
    x = RNG.standard_normal((len(lengths), max(lengths), I))
    hx = _states(cls, 2, True, len(lengths))
    lstm = cls == "LSTM"
    packed = pack_padded_sequence(ad.tensor(x), lengths, batch_first=True,
                                  enforce_sorted=False)
    out, h = model(packed, tuple(map(ad.tensor, hx)) if lstm else ad.tensor(hx))
    padded, _ = pad_packed_sequence(out, batch_first=True, padding_value=np.nan)
    for i, n in enumerate(lengths):
        h_i = tuple(ad.tensor(s[:, i:i + 1]) for s in hx) if lstm else ad.tensor(hx[:, i:i + 1])
        alone, h_alone = model(ad.tensor(x[i:i + 1, :n]), h_i)
        np.testing.assert_allclose(padded.data[i, :n], alone.data[0], rtol=0, atol=1e-14)
        assert np.isnan(padded.data[i, n:]).all()  # steps past the end are padding
        for a, b in zip(h if lstm else (h,), h_alone if lstm else (h_alone,)):
            np.testing.assert_allclose(a.data[:, i], b.data[:, 0], rtol=0, atol=1e-14)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_equal_lengths_give_the_padded_run_bit_for_bit(cls):
    model = _layer(cls, {}, 2, True, False)
    x = ad.tensor(RNG.standard_normal((4, 3, I)))
    out, h = model(pack_padded_sequence(x, [4, 4, 4]))
    out_padded, h_padded = model(x)
    np.testing.assert_array_equal(out.data.data, out_padded.data.reshape(12, 2 * H))
    for a, b in zip(h if cls == "LSTM" else (h,), h_padded if cls == "LSTM" else (h_padded,)):
        np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_gradcheck_and_gradgradcheck_through_the_layer(cls):
    model = getattr(nn, cls)(1, 2, bidirectional=True, dtype=np.float64)

    def f(x, h0):
        packed = pack_padded_sequence(x, [1, 2], enforce_sorted=False)
        out, h = model(packed, (h0, h0 * 0.5) if cls == "LSTM" else h0)
        return (out.data, *(h if cls == "LSTM" else (h,)))

    x, h0 = ad.tensor(RNG.standard_normal((2, 2, 1))), ad.tensor(RNG.standard_normal((2, 2, 2)))
    assert gradcheck(f, x, h0)
    assert gradgradcheck(f, x, h0)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("mode", ["RNN_TANH", "LSTM", "GRU"])
def test_gradcheck_and_gradgradcheck_of_every_input(mode, reverse):
    g = GATES[mode]
    data = RNG.standard_normal((3, 1))  # lengths 2, 1: batch sizes 2, 1
    args = [data, RNG.standard_normal((2, 1)), RNG.standard_normal((2, 1)) if mode == "LSTM"
            else None, RNG.standard_normal((g, 1)), RNG.standard_normal((g, 1)),
            RNG.standard_normal(g), RNG.standard_normal(g)]
    args = [None if a is None else ad.tensor(a) for a in args]

    def f(*a):
        out, h, c = packed_recurrence(a[0], [2, 1], *a[1:], mode=mode, reverse=reverse)
        return (out, h) if c is None else (out, h, c)

    assert gradcheck(f, *args)
    assert gradgradcheck(f, *args)


def test_runs_of_equal_batch_sizes():
    assert runs([4]) == [(0, 1, 4)]
    assert runs([3, 3, 2, 1, 1]) == [(0, 2, 3), (6, 1, 2), (8, 2, 1)]
    assert runs([2, 1, 1, 1]) == [(0, 1, 2), (2, 3, 1)]


def test_float32_stays_float32_and_the_output_keeps_the_packing():
    model = nn.GRU(I, H)
    packed = pack_padded_sequence(ad.randn(3, 2, I), [2, 3], enforce_sorted=False)
    out, h = model(packed)
    assert out.data.dtype == h.dtype == np.float32
    assert isinstance(out, PackedSequence) and out.data.shape == (5, H)
    assert out.batch_sizes is packed.batch_sizes and out.sorted_indices is packed.sorted_indices
    assert out.unsorted_indices is packed.unsorted_indices


@pytest.mark.parametrize("call,error,match", [
    (lambda m: m(PackedSequence(ad.ones((4, 2)), [2, 2])), ValueError,
     r"LSTM: input.shape\[-1\] must equal input_size=3, got input of shape \(4, 2\)"),
    (lambda m: m(PackedSequence(ad.ones((4, 1, 3)), [2, 2])), ValueError,
     r"LSTM: a PackedSequence's data must be \(sum of lengths, input_size\), got shape "
     r"\(4, 1, 3\)"),
    (lambda m: m(PackedSequence(ad.ones((4, 3), dtype=np.float64), [2, 2])), TypeError,
     r"LSTM: input has dtype float64 but the parameters have float32"),
    (lambda m: m(pack_padded_sequence(ad.ones((2, 2, 3)), [2, 1]),
                 (ad.zeros((1, 3, 4)), ad.zeros((1, 3, 4)))), ValueError,
     r"LSTM: expected h_0 of shape \(1, 2, 4\), got \(1, 3, 4\)"),
    (lambda m: m(pack_padded_sequence(ad.ones((2, 2, 3)), [2, 1]), ad.zeros((1, 2, 4))),
     TypeError, r"LSTM: hx must be a tuple \(h_0, c_0\), got Tensor"),
    (lambda m: m(PackedSequence(ad.ones((4, 3)), [2, 1])), ValueError,
     r"LSTM: the PackedSequence's data has 4 rows \(shape \(4, 3\)\) but its batch_sizes "
     r"\[2, 1\] sum to 3"),
])
def test_errors_name_the_layer_and_the_value(call, error, match):
    with pytest.raises(error, match=match):
        call(nn.LSTM(3, 4))
