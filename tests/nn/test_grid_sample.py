"""affine_grid and grid_sample: closed forms, gradients of the input and of the grid to second
order, the padding modes at and beyond the borders (NaN and inf points too), PyTorch's numbers."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

IDENTITY = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_the_identity_grid_reads_the_input_back(mode, align_corners):
    x = np.random.default_rng(0).standard_normal((1, 2, 3, 5))
    grid = F.affine_grid(ad.tensor(IDENTITY), (1, 2, 3, 5), align_corners)
    got = F.grid_sample(ad.tensor(x), grid, mode, align_corners=align_corners)
    np.testing.assert_allclose(got.data, x, atol=1e-14)


def test_closed_forms():
    x = ad.tensor(np.array([[[[0.0, 10.0, 20.0]]]]))
    # align_corners: x = -1, 0, 1 are the centers of cells 0, 1, 2; 0.25 is a quarter past 1
    grid = ad.tensor(np.array([[[[-1.0, 0.0], [0.25, 0.0], [1.5, 0.0]]]]))
    # 1.5 is cell 2.5: half of cell 2, half outside (0, the edge's 20, or cell 1.5's 15)
    for padding, last in [("zeros", 10.0), ("border", 20.0), ("reflection", 15.0)]:
        got = F.grid_sample(x, grid, padding_mode=padding, align_corners=True)
        np.testing.assert_allclose(got.data.ravel(), [0.0, 12.5, last], atol=1e-12)
    # without align_corners -1 is cell -0.5, 0.25 cell 1.375, 1.5 cell 3.25 (all outside)
    got = F.grid_sample(x, grid, padding_mode="zeros", align_corners=False).data.ravel()
    np.testing.assert_allclose(got, [0.0, 13.75, 0.0], atol=1e-12)
    shift = ad.tensor(np.array([[[1.0, 0.0, 2 / 3], [0.0, 1.0, 0.0]]]))  # one cell right
    got = F.grid_sample(x, F.affine_grid(shift, (1, 1, 1, 3)))
    np.testing.assert_allclose(got.data.ravel(), [10.0, 20.0, 0.0], atol=1e-12)


def test_points_at_nan_and_inf_as_pytorch():
    x = ad.tensor(np.arange(6.0).reshape(1, 1, 2, 3))
    grid = ad.tensor(np.array([[[[np.nan, 0.0], [0.5, np.inf], [-np.inf, 0.2]]]]))
    with np.errstate(invalid="ignore"):
        zeros = F.grid_sample(x, grid).data.ravel()
        border = F.grid_sample(x, grid, padding_mode="border").data.ravel()
        reflection = F.grid_sample(x, grid, padding_mode="reflection").data.ravel()
    assert np.isnan(zeros).all()
    np.testing.assert_allclose(border, [1.5, 4.75, 2.1])  # NaN clamps to 0, inf to the edge
    np.testing.assert_allclose(reflection, [1.5, 1.75, 2.1])  # reflecting inf: NaN, then 0


@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_second_order_in_the_input_and_the_grid(padding, align_corners):
    rng = np.random.default_rng(1)
    x = ad.tensor(rng.standard_normal((2, 2, 3, 4)))
    grid = ad.tensor(rng.uniform(-1.4, 1.4, (2, 3, 2, 2)))  # in and out, off the kinks

    def f(a, b):
        return F.grid_sample(a, b, padding_mode=padding, align_corners=align_corners)

    assert gradcheck(f, x, grid) and gradgradcheck(f, x, grid)
    theta = ad.tensor(rng.standard_normal((2, 2, 3)))
    assert gradcheck(lambda t: F.affine_grid(t, (2, 1, 3, 4), align_corners), theta)


def test_nearest_gives_the_grid_no_gradient_and_the_border_none_at_the_border():
    x = ad.tensor(np.arange(6.0).reshape(1, 1, 2, 3))
    grid = ad.tensor(np.array([[[[0.1, 0.2], [1.0, 1.0]]]]), requires_grad=True)
    out = F.grid_sample(x, grid, mode="nearest")
    assert not out.requires_grad  # the points are rounded: a constant map of the grid
    # align_corners: (1, 1) is the last cell's center, a border: no gradient, as PyTorch's
    out = F.grid_sample(x, grid, padding_mode="border", align_corners=True)
    (g,) = ad.gradients(out.sum(), [grid])
    np.testing.assert_array_equal(g.data[0, 0, 1], [0.0, 0.0])


def test_errors():
    x = ad.ones((1, 1, 2, 2))
    with pytest.raises(ValueError, match="grid_sample: mode must be 'bilinear' or 'nearest' "
                                         r"\(bicubic is not implemented\), got 'bicubic'"):
        F.grid_sample(x, ad.zeros((1, 1, 1, 2)), mode="bicubic")
    with pytest.raises(ValueError, match="grid_sample: padding_mode must be"):
        F.grid_sample(x, ad.zeros((1, 1, 1, 2)), padding_mode="circular")
    with pytest.raises(ValueError, match=r"grid_sample: expected input \(N, C, H, W\) and grid"):
        F.grid_sample(x, ad.zeros((2, 1, 1, 2)))
    with pytest.raises(ValueError, match=r"affine_grid: expected theta of shape \(1, 2, 3\)"):
        F.affine_grid(ad.zeros((1, 3, 3)), (1, 1, 2, 2))
    with pytest.raises(ValueError, match=r"affine_grid: size must be \(N, C, H, W\)"):
        F.affine_grid(ad.zeros((1, 2, 3)), (1, 1, 2, 2, 2))


@pytest.mark.parametrize("seed", range(18))
def test_match_pytorch(seed):
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 2, int(rng.integers(1, 6)), int(rng.integers(1, 6))))
    grid = rng.uniform(-1.6, 1.6, (2, 3, 4, 2)) * [1, 3][seed % 2]
    if seed % 5 == 0:
        grid = np.round(grid * 4) / 4  # on cell borders and centers: the kinks
    mode = "nearest" if seed % 4 == 3 else "bilinear"
    padding = ["zeros", "border", "reflection"][seed % 3]
    ac = bool(seed // 3 % 2)
    a, b = ad.tensor(x, requires_grad=True), ad.tensor(grid, requires_grad=True)
    ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(grid, requires_grad=True)
    got = F.grid_sample(a, b, mode, padding, ac)
    expected = torch.nn.functional.grid_sample(ta, tb, mode, padding, ac)
    np.testing.assert_allclose(got.data, expected.detach().numpy(), rtol=1e-12, atol=1e-13)
    g = rng.standard_normal(got.shape)
    mine = ad.gradients(got, [a, b], ad.tensor(g), allow_unused=True)
    theirs = torch.autograd.grad(expected, [ta, tb], torch.tensor(g), allow_unused=True)
    for u, v, shape in zip(mine, theirs, (x.shape, grid.shape)):
        u = np.zeros(shape) if u is None else u.data
        v = np.zeros(shape) if v is None else v.numpy()
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-13)
    theta = rng.standard_normal((2, 2, 3))
    np.testing.assert_allclose(
        F.affine_grid(ad.tensor(theta), (2, 1, 3, 5), ac).data,
        torch.nn.functional.affine_grid(torch.tensor(theta), (2, 1, 3, 5), ac).numpy(),
        rtol=1e-13, atol=1e-14)
