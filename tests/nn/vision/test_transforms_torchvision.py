"""The transforms against torchvision's, value for value: Normalize and the flip directly, the
crop and the affine map at the offsets, angles and shifts they drew (read back from the same
seeded generator, or set)."""

import itertools

import numpy as np
import pytest

from nn.vision import transforms as T

torch = pytest.importorskip("torch", reason="torchvision comparison (in /work/tvenv only)")
tv = pytest.importorskip("torchvision", reason="torchvision comparison (in /work/tvenv only)")
TF = pytest.importorskip("torchvision.transforms.functional", reason="torchvision comparison")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_normalize_equals_torchvisions_bit_for_bit(dtype):
    rng = np.random.default_rng(0)
    for c in (1, 3):
        x = rng.random((4, c, 5, 6)).astype(dtype)
        mean, std = rng.random(c).tolist(), (rng.random(c) + 0.1).tolist()
        want = tv.transforms.Normalize(mean, std)(torch.from_numpy(x)).numpy()
        got = T.Normalize(mean, std)(x)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(T.Normalize(mean, std)(x[0]), want[0])


def test_flip_equals_hflip():
    x = np.random.default_rng(1).random((3, 2, 4, 5)).astype(np.float32)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x),
                                  TF.hflip(torch.from_numpy(x)).numpy())


@pytest.mark.parametrize("size, padding", [(4, 0), (5, 2), ((3, 6), 1)])
def test_random_crop_equals_pad_then_crop_at_the_drawn_offsets(size, padding):
    x = np.random.default_rng(2).random((8, 2, 5, 6)).astype(np.float32)
    got = T.RandomCrop(size, padding=padding, seed=7)(x)
    th, tw = (size, size) if isinstance(size, int) else size
    rng = np.random.default_rng(7)  # the crop's draws: tops, then lefts
    tops = rng.integers(0, 5 + 2 * padding - th + 1, len(x))
    lefts = rng.integers(0, 6 + 2 * padding - tw + 1, len(x))
    for i in range(len(x)):
        padded = TF.pad(torch.from_numpy(x[i]), [padding])
        want = TF.crop(padded, int(tops[i]), int(lefts[i]), th, tw).numpy()
        np.testing.assert_array_equal(got[i], want)


class _Fixed:
    """A generator whose uniform draws are given: an angle, then the y and x shifts."""

    def __init__(self, values):
        self.values = list(values)

    def uniform(self, low, high, n):
        return np.array([self.values.pop(0)])


def test_affine_equals_torchvisions_affine_with_nearest():
    """300 random angles, whole-pixel shifts and sizes: every pixel equal."""
    from torchvision.transforms import InterpolationMode

    rng = np.random.default_rng(0)
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(3, 12, 2))
        x = rng.random((1, 2, h, w)).astype(np.float32)
        angle, dy, dx = float(rng.uniform(-180, 180)), *(int(v) for v in rng.integers(-2, 3, 2))
        affine = T.RandomAffine(180, 1.0)
        affine.rng = _Fixed([angle, dy / h, dx / w])
        want = TF.affine(torch.from_numpy(x[0]), angle=angle, translate=[dx, dy], scale=1.0,
                         shear=[0.0], interpolation=InterpolationMode.NEAREST).numpy()
        np.testing.assert_array_equal(affine(x)[0], want, err_msg=f"{h}x{w}, {angle}, {dy, dx}")


def test_resize_equals_torchvisions_resize():
    """float32 images from 2 x 3 to 13 x 28 resized to 2 x 2 up to 28 x 9: within 1e-6."""
    rng = np.random.default_rng(1)
    for h, w, oh, ow in itertools.product([2, 6, 13], [3, 28], [2, 5, 28], [2, 9]):
        x = rng.random((3, h, w)).astype(np.float32)
        want = TF.resize(torch.from_numpy(x), [oh, ow], antialias=True).numpy()
        np.testing.assert_allclose(T.Resize((oh, ow))(x), want, atol=1e-6)
