"""interpolate's scale handling, as PyTorch's: an axis that keeps its size is copied whatever
the scale factor (it was resampled with the scale: (3,) by 1.3 read [x0, x0, x1]); nearest
indices in float32 as PyTorch's kernel; recompute_scale_factor; sizes and scale factors of the
wrong length or type are refused with the argument named (a size of three was truncated)."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F


def _x(h=2, w=3):
    return ad.tensor(np.arange(float(h * w)).reshape(1, 1, h, w))


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_an_axis_that_keeps_its_size_is_copied(mode):
    y = F.interpolate(_x(1, 3), scale_factor=(2.0, 1.3), mode=mode)  # 3 * 1.3 -> 3 columns
    assert y.shape == (1, 1, 2, 3)
    np.testing.assert_array_equal(y.data[0, 0], [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])


def test_nearest_doubling_and_float32_indices():
    # 2 * 2.02 -> 4 columns: PyTorch takes dst // 2, not floor(dst / 2.02)
    assert F.interpolate(_x(1, 2), scale_factor=(1.0, 2.02)).data.ravel().tolist() == [
        0.0, 0.0, 1.0, 1.0]
    # 5 by 2.2 -> 11 columns, floor(dst * float32(1 / 2.2)) as PyTorch
    got = F.interpolate(_x(1, 5), scale_factor=(1.0, 2.2)).data.ravel()
    assert got.tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_recompute_scale_factor_places_samples_by_the_size_ratio():
    x = _x(1, 5)
    given = F.interpolate(x, scale_factor=(1.0, 1.5), mode="bilinear").data.ravel()
    recomputed = F.interpolate(x, scale_factor=(1.0, 1.5), mode="bilinear",
                               recompute_scale_factor=True).data.ravel()
    by_size = F.interpolate(x, size=(1, 7), mode="bilinear").data.ravel()
    np.testing.assert_array_equal(recomputed, by_size)
    assert not np.array_equal(given, by_size)  # 7 / 5 is not 1.5
    layer = nn.Upsample(scale_factor=(1.0, 1.5), mode="bilinear", recompute_scale_factor=True)
    np.testing.assert_array_equal(layer(x).data.ravel(), by_size)


@pytest.mark.parametrize("kwargs, message", [
    (dict(size=(2, 2, 2)), r"size must be an int or a pair of ints \(H, W\), got \(2, 2, 2\)"),
    (dict(size=2.5), r"size must be an int or a pair of ints \(H, W\), got 2.5"),
    (dict(scale_factor=(2, 2, 2)), r"scale_factor must be a number or a pair"),
    (dict(scale_factor="2"), r"scale_factor must be a number or a pair"),
    (dict(scale_factor=-2.0), r"scale_factor must be positive, got -2.0"),
    (dict(size=4, recompute_scale_factor=True), r"recompute_scale_factor applies to "),
    (dict(size=4, antialias=True), r"antialias=True is not implemented"),
])
def test_bad_sizes_and_scales_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match="interpolate: " + message):
        F.interpolate(_x(), **kwargs)


def test_matches_pytorch_on_odd_scales():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    x = np.random.default_rng(0).standard_normal((1, 2, 3, 5))
    for mode, ac in (("nearest", None), ("bilinear", False), ("bilinear", True)):
        for sf in ((0.5, 1.3), (1.7, 1.1), (2.02, 2.2), (1 / 3, 0.75)):
            for rsf in (None, True):
                expected = torch.nn.functional.interpolate(
                    torch.tensor(x), scale_factor=sf, mode=mode, align_corners=ac,
                    recompute_scale_factor=rsf).numpy()
                got = F.interpolate(ad.tensor(x), scale_factor=sf, mode=mode, align_corners=ac,
                                    recompute_scale_factor=rsf).data
                np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)
