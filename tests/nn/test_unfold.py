"""F.unfold / F.fold (im2col / col2im) and F.pixel_shuffle / F.pixel_unshuffle, PyTorch-free:
hand-computed values, a loop-over-blocks reference, the adjoint identity, gradcheck and
gradgradcheck, dtypes, empty batches, unbatched input and every error path."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

# (input shape, kernel_size, dilation, padding, stride): non-square kernels, strides,
# dilations and pads, a stride larger than the kernel (pixels no block covers), a 1x1 kernel
CASES = [((2, 3, 5, 6), 2, 1, 0, 1), ((1, 2, 6, 7), (2, 3), (1, 2), (1, 0), (2, 1)),
         ((2, 1, 7, 5), (3, 1), 2, 1, (1, 2)), ((1, 2, 5, 5), 1, 1, 0, 1),
         ((1, 2, 7, 8), 2, 1, (0, 1), 3), ((1, 1, 4, 4), 3, 1, 2, 2)]


def reference_unfold(x, k, d, p, s):
    """im2col by a loop over blocks and kernel offsets, rows ordered (c, i, j)."""
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = map(pair, (k, d, p, s))
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, c, kh, kw, ho, wo), x.dtype)
    for a in range(ho):
        for b in range(wo):
            for i in range(kh):
                for j in range(kw):
                    out[:, :, i, j, a, b] = xp[:, :, a * sh + i * dh, b * sw + j * dw]
    return out.reshape(n, c * kh * kw, ho * wo)


@pytest.mark.parametrize(("shape", "k", "d", "p", "s"), CASES)
def test_unfold_equals_a_loop_over_blocks(shape, k, d, p, s):
    x = np.random.default_rng(0).standard_normal(shape)
    np.testing.assert_array_equal(F.unfold(ad.tensor(x), k, d, p, s).data,
                                  reference_unfold(x, k, d, p, s))


@pytest.mark.parametrize(("shape", "k", "d", "p", "s"), CASES)
def test_fold_is_the_adjoint_of_unfold(shape, k, d, p, s):
    """<unfold(x), y> = <x, fold(y)> for random x and y: fold is unfold's transpose."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    u = F.unfold(ad.tensor(x), k, d, p, s)
    y = rng.standard_normal(u.shape)
    f = F.fold(ad.tensor(y), shape[2:], k, d, p, s)
    assert f.shape == shape
    np.testing.assert_allclose(np.sum(u.data * y), np.sum(x * f.data), rtol=1e-12)


@pytest.mark.parametrize(("shape", "k", "d", "p", "s"), CASES[:3])
def test_gradients_of_both_orders(shape, k, d, p, s):
    rng = np.random.default_rng(2)
    x = ad.tensor(rng.standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda t: F.unfold(t, k, d, p, s) ** 2, x, modes=("rev", "fwd"))
    assert gradgradcheck(lambda t: F.unfold(t, k, d, p, s) ** 2, x)
    y = ad.tensor(rng.standard_normal(F.unfold(x, k, d, p, s).shape), requires_grad=True)
    assert gradcheck(lambda t: F.fold(t, shape[2:], k, d, p, s) ** 2, y, modes=("rev", "fwd"))
    assert gradgradcheck(lambda t: F.fold(t, shape[2:], k, d, p, s) ** 2, y)


def test_fold_sums_overlaps_and_counts_coverage():
    """fold(unfold(ones)) counts, at each pixel, the blocks that cover it: hand-computed."""
    ones = ad.ones((1, 1, 3, 4), dtype=np.float64)
    cover = F.fold(F.unfold(ones, 2), (3, 4), 2)
    np.testing.assert_array_equal(cover.data[0, 0], [[1, 2, 2, 1], [2, 4, 4, 2], [1, 2, 2, 1]])
    # stride 3 with a 2x2 kernel: row and column 2 are in no block
    gaps = F.fold(ad.ones((1, 4, 4), dtype=np.float64), 5, 2, stride=3)
    np.testing.assert_array_equal(gaps.data[0, 0, 2], 0)
    np.testing.assert_array_equal(gaps.data[0, 0, :, 2], 0)
    assert gaps.data.sum() == 16


def test_the_gradient_of_unfold_is_fold_and_back():
    x = ad.tensor(np.random.default_rng(3).standard_normal((1, 2, 4, 5)), requires_grad=True)
    u = F.unfold(x, (2, 3), padding=1)
    g = np.random.default_rng(4).standard_normal(u.shape)
    u.backward(ad.tensor(g))
    np.testing.assert_array_equal(x.grad.data, F.fold(ad.tensor(g), (4, 5), (2, 3),
                                                      padding=1).data)


def test_unbatched_float32_and_empty_batch():
    x = ad.tensor(np.random.default_rng(5).standard_normal((2, 4, 5)).astype(np.float32))
    u = F.unfold(x, 2, stride=(1, 2))
    assert u.dtype == np.float32 and u.shape == (8, 6)
    np.testing.assert_array_equal(u.data, F.unfold(x[None], 2, stride=(1, 2)).data[0])
    f = F.fold(u, (4, 5), 2, stride=(1, 2))
    assert f.dtype == np.float32 and f.shape == (2, 4, 5)
    assert F.unfold(ad.zeros((0, 2, 4, 4)), 3).shape == (0, 18, 4)
    assert F.fold(ad.zeros((0, 18, 4)), 4, 3).shape == (0, 2, 4, 4)
    assert F.pixel_shuffle(ad.zeros((0, 8, 2, 3)), 2).shape == (0, 2, 4, 6)
    assert F.pixel_unshuffle(ad.zeros((0, 2, 4, 6)), 2).shape == (0, 8, 2, 3)
    assert F.pixel_shuffle(x.reshape(1, 8, 1, 5), 2).dtype == np.float32


def test_a_1x1_unfold_does_not_alias_its_input():
    x = ad.tensor(np.arange(4.0).reshape(1, 1, 2, 2))
    u = F.unfold(x, 1)
    x.data[0, 0, 0, 0] = 9.0
    assert u.data[0, 0, 0] == 0.0


def test_pixel_shuffle_by_hand_and_its_inverse():
    x = ad.arange(8.0).reshape(1, 8, 1, 1)  # two output channels of 2x2
    np.testing.assert_array_equal(F.pixel_shuffle(x, 2).data[0],
                                  [[[0, 1], [2, 3]], [[4, 5], [6, 7]]])
    z = ad.tensor(np.random.default_rng(6).standard_normal((2, 3, 18, 2, 4)))  # extra batch axis
    s = F.pixel_shuffle(z, 3)
    assert s.shape == (2, 3, 2, 6, 12)
    # out[..., c, h r + i, w r + j] = x[..., c r^2 + i r + j, h, w]
    assert s.data[1, 2, 1, 1 * 3 + 2, 3 * 3 + 1] == z.data[1, 2, 1 * 9 + 2 * 3 + 1, 1, 3]
    np.testing.assert_array_equal(F.pixel_unshuffle(s, 3).data, z.data)


def test_pixel_shuffle_gradients():
    x = ad.tensor(np.random.default_rng(7).standard_normal((1, 8, 2, 3)), requires_grad=True)
    assert gradcheck(lambda t: F.pixel_shuffle(t, 2) ** 2, x)
    assert gradgradcheck(lambda t: F.pixel_shuffle(t, 2) ** 2, x)
    y = ad.tensor(np.random.default_rng(8).standard_normal((2, 4, 6)), requires_grad=True)
    assert gradcheck(lambda t: F.pixel_unshuffle(t, 2) ** 2, y)
    assert gradgradcheck(lambda t: F.pixel_unshuffle(t, 2) ** 2, y)


def test_layers():
    x = ad.tensor(np.random.default_rng(9).standard_normal((2, 3, 5, 6)))
    unfold = nn.Unfold((2, 3), dilation=1, padding=1, stride=2)
    fold = nn.Fold((5, 6), (2, 3), padding=1, stride=2)
    np.testing.assert_array_equal(unfold(x).data, F.unfold(x, (2, 3), 1, 1, 2).data)
    np.testing.assert_array_equal(fold(unfold(x)).data,
                                  F.fold(unfold(x), (5, 6), (2, 3), 1, 1, 2).data)
    np.testing.assert_array_equal(nn.PixelUnshuffle(2)(nn.PixelShuffle(2)(
        ad.ones((1, 12, 2, 2)))).data, ad.ones((1, 12, 2, 2)).data)
    assert repr(unfold) == "Unfold(kernel_size=(2, 3), dilation=1, padding=1, stride=2)"
    assert repr(fold) == ("Fold(output_size=(5, 6), kernel_size=(2, 3), dilation=1, padding=1, "
                          "stride=2)")
    assert repr(nn.PixelShuffle(2)) == "PixelShuffle(upscale_factor=2)"
    assert repr(nn.PixelUnshuffle(3)) == "PixelUnshuffle(downscale_factor=3)"
    assert list(unfold.parameters()) == []


X = ad.ones((1, 2, 5, 5))
ERRORS = [
    (lambda: F.unfold(ad.ones((5, 5)), 2), r"unfold: expected input of shape \(N, C, H, W\) "
                                           r"or \(C, H, W\), got \(5, 5\)"),
    (lambda: F.unfold(X, 0), r"unfold: kernel_size must be positive, got \(0, 0\)"),
    (lambda: F.unfold(X, 2, dilation=(1, 0)), r"unfold: dilation must be positive, got \(1, 0\)"),
    (lambda: F.unfold(X, 2, stride=-1), r"unfold: stride must be positive, got \(-1, -1\)"),
    (lambda: F.unfold(X, 2, padding=-1), r"unfold: padding must be >= 0, got \(-1, -1\)"),
    (lambda: F.unfold(X, 2.5), r"unfold: kernel_size must be an int or a pair of ints, got 2.5"),
    (lambda: F.unfold(X, (1, 2, 3)), r"unfold: kernel_size must be an int or a pair"),
    (lambda: F.unfold(X, 6), r"unfold: spatial size \(5, 5\) with kernel_size \(6, 6\).* gives "
                             r"\(0, 0\) sliding blocks; both must be at least 1"),
    (lambda: F.fold(ad.ones((1, 1, 8, 4)), 3, 2), r"fold: expected input of shape "
                                                  r"\(N, C \* kh \* kw, L\) or .*\(1, 1, 8, 4\)"),
    (lambda: F.fold(ad.ones((1, 7, 4)), 3, 2), r"fold: the input's 7 rows \(axis 1\) are not "
                                               r"divisible by the kernel's area 2 \* 2 = 4"),
    (lambda: F.fold(ad.ones((1, 8, 5)), 3, 2), r"fold: output_size \(3, 3\) .* has 2 \* 2 = 4 "
                                               r"sliding blocks, but the input has 5 \(axis 2\)"),
    (lambda: F.fold(ad.ones((1, 8, 4)), 1, 2), r"fold: spatial size \(1, 1\) .* gives \(0, 0\)"),
    (lambda: F.fold(ad.ones((1, 8, 4)), (3, 3, 3), 2), r"fold: output_size must be an int or "
                                                       r"a pair of ints, got \(3, 3, 3\)"),
    (lambda: F.fold(ad.ones((1, 8, 4)), 3, 2, padding=-1), r"fold: padding must be >= 0"),
    (lambda: F.pixel_shuffle(ad.ones((7, 2, 3)), 2), r"pixel_shuffle: the input's 7 channels "
                                                     r"\(axis -3\) are not divisible by "
                                                     r"upscale_factor\^2 = 4"),
    (lambda: F.pixel_shuffle(ad.ones((8, 2)), 2), r"pixel_shuffle: expected input of at least "
                                                  r"3 dimensions .*got \(8, 2\)"),
    (lambda: F.pixel_shuffle(ad.ones((1, 8, 2, 3)), 0), r"pixel_shuffle: upscale_factor must "
                                                        r"be a positive int, got 0"),
    (lambda: F.pixel_shuffle(ad.ones((1, 8, 2, 3)), 2.0), r"pixel_shuffle: upscale_factor "
                                                          r"must be a positive int, got 2.0"),
    (lambda: F.pixel_unshuffle(ad.ones((1, 2, 4, 5)), 2), r"pixel_unshuffle: the input's height "
                                                          r"4 and width 5 must both be divisible "
                                                          r"by downscale_factor = 2"),
    (lambda: F.pixel_unshuffle(ad.ones((4, 4)), 2), r"pixel_unshuffle: expected input of at "
                                                    r"least 3 dimensions"),
    (lambda: F.pixel_unshuffle(ad.ones((1, 1, 4, 4)), True), r"pixel_unshuffle: "
                                                             r"downscale_factor must be a "
                                                             r"positive int, got True"),
]


@pytest.mark.parametrize(("call", "message"), ERRORS, ids=[m[:40] for _, m in ERRORS])
def test_bad_arguments_are_refused_by_name(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_strided_views_are_read_as_their_values():
    """A transposed, reversed view unfolds and folds as its contiguous copy does."""
    x = np.random.default_rng(10).standard_normal((3, 2, 6, 5)).transpose(1, 0, 3, 2)[:, :, ::-1]
    np.testing.assert_array_equal(F.unfold(ad.tensor(x), (2, 3), stride=(2, 1)).data,
                                  reference_unfold(x.copy(), (2, 3), 1, 0, (2, 1)))
    y = np.random.default_rng(11).standard_normal((2, 16, 12)).transpose(0, 2, 1)[:, ::-1]
    np.testing.assert_array_equal(F.fold(ad.tensor(y), (5, 6), (2, 3)).data,
                                  F.fold(ad.tensor(y.copy()), (5, 6), (2, 3)).data)
