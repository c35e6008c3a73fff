"""F.conv1d, F.conv2d and F.conv_transpose2d take an unbatched input ((C, L), (C, H, W)), as
PyTorch's functions do (only the layers did; the functions refused it)."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from autodiff.testing import gradcheck

RNG = np.random.default_rng(0)
CASES = {
    "conv1d": (F.conv1d, (2, 6), (4, 1, 3), dict(stride=2, padding=1, groups=2)),
    "conv2d": (F.conv2d, (2, 5, 4), (3, 2, 2, 3), dict(padding="same", dilation=(2, 1))),
    "conv_transpose2d": (F.conv_transpose2d, (2, 3, 3), (2, 3, 2, 2),
                         dict(stride=2, output_padding=1)),
}


@pytest.mark.parametrize("name", CASES)
def test_unbatched_is_the_batch_of_one(name):
    op, xs, ws, kw = CASES[name]
    x, w = RNG.standard_normal(xs), RNG.standard_normal(ws)
    b = RNG.standard_normal(ws[1] if name == "conv_transpose2d" else ws[0])
    got = op(ad.tensor(x), ad.tensor(w), ad.tensor(b), **kw)
    np.testing.assert_array_equal(got.data, op(ad.tensor(x[None]), ad.tensor(w), ad.tensor(b),
                                               **kw).data[0])
    assert gradcheck(lambda x, w, b: op(x, w, b, **kw), ad.tensor(x, requires_grad=True),
                     ad.tensor(w, requires_grad=True), ad.tensor(b, requires_grad=True))


@pytest.mark.parametrize("name, shape, message", [
    ("conv2d", (5, 5), r"conv2d: expected input of shape \(N, C, H, W\) or \(C, H, W\) "
                       r"unbatched, got \(5, 5\)"),
    ("conv_transpose2d", (1, 1, 1, 2, 2), r"conv_transpose2d: expected input of shape "
                                          r"\(N, C, H, W\) or \(C, H, W\) unbatched"),
    ("conv1d", (5,), r"conv1d: expected input of shape \(N, C, L\) or \(C, L\) unbatched, "
                     r"got \(5,\)"),
])
def test_other_ranks_are_refused_by_name(name, shape, message):
    op, _, ws, _ = CASES[name]
    with pytest.raises(ValueError, match=message):
        op(ad.ones(shape), ad.ones(ws))


@pytest.mark.parametrize("name", CASES)
def test_matches_pytorch(name):
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    op, xs, ws, kw = CASES[name]
    x, w = RNG.standard_normal(xs), RNG.standard_normal(ws)
    expected = getattr(torch.nn.functional, name)(torch.tensor(x), torch.tensor(w), **kw)
    np.testing.assert_allclose(op(ad.tensor(x), ad.tensor(w), **kw).data, expected.numpy(),
                               rtol=1e-12, atol=1e-14)
