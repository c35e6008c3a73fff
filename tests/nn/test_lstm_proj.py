"""LSTM with proj_size (PyTorch's projections): h_t = (o tanh(c_t)) W_hr^T, so h has
proj_size features and c keeps hidden_size; by hand, by gradcheck, packed, against PyTorch."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.testing import gradcheck, gradgradcheck
from nn.utils.rnn import pack_padded_sequence


def _sig(v: float) -> float:
    return 1 / (1 + math.exp(-v))


def test_one_step_by_hand():
    lstm = nn.LSTM(1, 2, proj_size=1, dtype=np.float64)
    assert [(k, tuple(v.shape)) for k, v in lstm.named_parameters()] == [
        ("weight_ih_l0", (8, 1)), ("weight_hh_l0", (8, 1)), ("bias_ih_l0", (8,)),
        ("bias_hh_l0", (8,)), ("weight_hr_l0", (1, 2))]
    w_ih = np.linspace(-0.4, 0.4, 8)[:, None]
    w_hh = np.linspace(0.3, -0.5, 8)[:, None]
    b = np.linspace(-0.1, 0.2, 8)
    w_hr = np.array([[0.7, -1.1]])
    for name, v in [("weight_ih_l0", w_ih), ("weight_hh_l0", w_hh), ("bias_ih_l0", b),
                    ("bias_hh_l0", b * 0), ("weight_hr_l0", w_hr)]:
        getattr(lstm, name).data[...] = v
    x, h, c = 0.5, -0.3, np.array([0.8, -0.2])
    z = w_ih[:, 0] * x + w_hh[:, 0] * h + b  # rows i, f, g, o of two units each
    i, f = [_sig(v) for v in z[0:2]], [_sig(v) for v in z[2:4]]
    g, o = [math.tanh(v) for v in z[4:6]], [_sig(v) for v in z[6:8]]
    c1 = np.array(f) * c + np.array(i) * np.array(g)
    h1 = w_hr @ (np.array(o) * np.tanh(c1))
    f64 = np.float64
    out, (h_n, c_n) = lstm(ad.tensor([[[x]]], dtype=f64), (ad.tensor([[[h]]], dtype=f64),
                                                          ad.tensor([[c]], dtype=f64)))
    np.testing.assert_allclose(out.data.ravel(), h1, atol=1e-15)
    np.testing.assert_allclose(h_n.data.ravel(), h1, atol=1e-15)
    np.testing.assert_allclose(c_n.data.ravel(), c1, atol=1e-15)


def test_shapes_repr_unbatched_and_second_derivatives():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2, dtype=np.float64)
    assert repr(lstm) == "LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)"
    assert lstm.weight_ih_l1.shape == (20, 4) and lstm.weight_hh_l1_reverse.shape == (20, 2)
    out, (h_n, c_n) = lstm(ad.randn(6, 4, 3, dtype=np.float64))
    assert out.shape == (6, 4, 4) and h_n.shape == (4, 4, 2) and c_n.shape == (4, 4, 5)
    out1, (h1, c1) = lstm(ad.randn(6, 3, dtype=np.float64))
    assert out1.shape == (6, 4) and h1.shape == (4, 2) and c1.shape == (4, 5)
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(4, 4, 2\), got \(4, 4, 5\)"):
        lstm(ad.randn(6, 4, 3, dtype=np.float64), (ad.zeros((4, 4, 5), dtype=np.float64),
                                                   ad.zeros((4, 4, 5), dtype=np.float64)))
    small = nn.LSTM(2, 3, proj_size=2, bidirectional=True, dtype=np.float64)
    x = ad.tensor(np.random.default_rng(0).standard_normal((3, 2, 2)))
    assert gradcheck(lambda t: small(t)[0], x)
    assert gradgradcheck(lambda t: small(t)[1][0], x)


def test_packed_each_sequence_alone_equals_its_part():
    rng = np.random.default_rng(1)
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2, dtype=np.float64)
    x = rng.standard_normal((5, 3, 3))
    lengths = [5, 2, 4]
    out, (h_n, c_n) = lstm(pack_padded_sequence(ad.tensor(x), lengths, enforce_sorted=False))
    padded, _ = nn.utils.rnn.pad_packed_sequence(out)
    for b, n in enumerate(lengths):
        alone, (h1, c1) = lstm(ad.tensor(x[:n, b:b + 1]))
        np.testing.assert_allclose(padded.data[:n, b], alone.data[:, 0], atol=1e-14)
        np.testing.assert_allclose(h_n.data[:, b], h1.data[:, 0], atol=1e-14)
        np.testing.assert_allclose(c_n.data[:, b], c1.data[:, 0], atol=1e-14)


@pytest.mark.parametrize("layers, bidirectional, batch_first, with_hx, packed", [
    (1, False, False, False, False), (2, True, True, True, False), (2, False, False, True, True),
    (1, True, False, False, True)])
def test_matches_pytorch(layers, bidirectional, batch_first, with_hx, packed):
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra bench)")
    rng = np.random.default_rng(2)
    theirs = torch.nn.LSTM(3, 6, num_layers=layers, bidirectional=bidirectional,
                           batch_first=batch_first, proj_size=4).double()
    ours = nn.LSTM(3, 6, num_layers=layers, bidirectional=bidirectional,
                   batch_first=batch_first, proj_size=4, dtype=np.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    d = 2 if bidirectional else 1
    x = rng.standard_normal((3, 5, 3) if batch_first else (5, 3, 3))
    states = (rng.standard_normal((layers * d, 3, 4)), rng.standard_normal((layers * d, 3, 6)))
    tx, ax = torch.tensor(x, requires_grad=True), ad.tensor(x, requires_grad=True)
    thx = tuple(torch.tensor(s) for s in states) if with_hx else None
    ahx = tuple(ad.tensor(s) for s in states) if with_hx else None
    if packed:
        tin = torch.nn.utils.rnn.pack_padded_sequence(tx, [5, 3, 2], batch_first=batch_first)
        ain = pack_padded_sequence(ax, [5, 3, 2], batch_first=batch_first)
        (to, (th, tc)), (ao, (ah, ac)) = theirs(tin, thx), ours(ain, ahx)
        to, ao = to.data, ao.data
    else:
        (to, (th, tc)), (ao, (ah, ac)) = theirs(tx, thx), ours(ax, ahx)
    g = rng.standard_normal(tuple(to.shape))
    ((to * torch.tensor(g)).sum() + th.sum() + tc.sum()).backward()
    ((ao * ad.tensor(g)).sum() + ah.sum() + ac.sum()).backward()
    for a, t in [(ao, to), (ah, th), (ac, tc)]:
        np.testing.assert_allclose(a.data, t.detach().numpy(), atol=1e-13)
    np.testing.assert_allclose(ax.grad.data, tx.grad.numpy(), atol=1e-13)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, tp[name].grad.numpy(), atol=1e-12, err_msg=name)
