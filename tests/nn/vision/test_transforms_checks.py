"""Transforms refuse what they cannot do right, and take one image (C, H, W) as torchvision's
do: each of these was a silent wrong answer or a NumPy error before."""

import numpy as np
import pytest

from nn.vision import transforms as T

RANDOM = [lambda: T.RandomCrop(3, padding=1, seed=0), lambda: T.RandomHorizontalFlip(seed=0),
          lambda: T.RandomAffine(30, 0.2, seed=0)]


@pytest.mark.parametrize("make", RANDOM, ids=["crop", "flip", "affine"])
def test_one_image_is_a_batch_of_one(make):
    """(C, H, W) is one image (the flip drew per channel, the others failed to unpack)."""
    x = np.random.default_rng(0).random((16, 3, 5, 5)).astype(np.float32)
    single, batch = make(), make()
    for i in range(len(x)):
        np.testing.assert_array_equal(single(x[i]), batch(x[i:i + 1])[0])


def test_a_flipped_image_keeps_its_channels_together():
    x = np.broadcast_to(np.arange(4.0, dtype=np.float32), (3, 2, 4)).copy()
    for seed in range(10):
        y = T.RandomHorizontalFlip(seed=seed)(x)
        assert (y == y[0]).all()  # all channels flipped, or none


@pytest.mark.parametrize("shape", [(4, 4), (1, 1, 1, 4, 4)])
def test_other_ranks_are_refused(shape):
    for t in [T.Normalize([0.5], [0.5]), *(make() for make in RANDOM)]:
        with pytest.raises(ValueError, match=r"expects images \(N, C, H, W\) or one image "
                                             r"\(C, H, W\), got shape"):
            t(np.zeros(shape, np.float32))


def test_normalize_works_in_the_images_dtype():
    """float64 images were normalized with float32 constants (0.1 -> 0.10000000149)."""
    x = np.full((1, 1, 1, 1), 1.0)
    assert T.Normalize([0.1], [0.3])(x)[0, 0, 0, 0] == (1.0 - 0.1) / 0.3
    for dtype in (np.float16, np.float32, np.float64):
        assert T.Normalize([0.5], [0.5])(np.ones((1, 2, 2), dtype)).dtype == dtype
    np.testing.assert_array_equal(T.Normalize([0.0, 1.0], [1.0, 2.0])(np.ones((2, 1, 1))),
                                  [[[1.0]], [[0.0]]])


def test_normalize_refuses_integer_images_other_channels_and_zero_std():
    with pytest.raises(TypeError, match=r"Normalize: expects float images, got uint8 .*x / 255"):
        T.Normalize([0.5], [0.5])(np.full((1, 1, 2, 2), 200, np.uint8))  # gave 143s
    with pytest.raises(ValueError, match=r"Normalize: 3 mean values for images of 1 channels"):
        T.Normalize([0.5] * 3, [0.5])(np.ones((2, 1, 2, 2), np.float32))  # gave 3 channels
    with pytest.raises(ValueError, match=r"Normalize: 2 std values for images of 3 channels"):
        T.Normalize([0.5], [0.5, 0.5])(np.ones((3, 2, 2), np.float32))
    with pytest.raises(ValueError, match=r"Normalize: std \[0.0\] is zero in float32"):
        T.Normalize([0.5], [0.0])(np.ones((1, 1, 2, 2), np.float32))  # gave inf
    with pytest.raises(ValueError, match=r"std \[1e-50\] is zero in float32"):
        T.Normalize([0.5], [1e-50])(np.ones((1, 1, 2, 2), np.float32))


def test_random_crop_sizes_and_its_errors():
    x = np.arange(2 * 1 * 4 * 5, dtype=np.float32).reshape(2, 1, 4, 5)
    assert T.RandomCrop((2, 5), seed=0)(x).shape == (2, 1, 2, 5)
    np.testing.assert_array_equal(T.RandomCrop((4, 5))(x), x)
    with pytest.raises(ValueError, match=r"RandomCrop: the crop \(5, 5\) is larger than the "
                                         r"padded image \(4, 5\)"):
        T.RandomCrop(5, seed=0)(x)  # NumPy's "high <= 0" before
    for size in [0, (2,), (2, 0), 2.5, (2, 2.0)]:
        with pytest.raises(ValueError, match="RandomCrop: size must be a positive int or "
                                             r"\(height, width\)"):
            T.RandomCrop(size)
    with pytest.raises(ValueError, match="RandomCrop: padding must be an int >= 0, got -1"):
        T.RandomCrop(2, padding=-1)


def test_flip_and_affine_arguments_are_checked():
    with pytest.raises(ValueError, match=r"RandomHorizontalFlip: p must be a probability in "
                                         r"\[0, 1\], got 2"):
        T.RandomHorizontalFlip(p=2)
    with pytest.raises(ValueError, match="RandomAffine: degrees must be >= 0"):
        T.RandomAffine(-10)  # NumPy's "high - low < 0" at the first call before
    with pytest.raises(ValueError, match=r"RandomAffine: translate must be a fraction of the "
                                         r"size in \[0, 1\], got 1.5"):
        T.RandomAffine(10, 1.5)
