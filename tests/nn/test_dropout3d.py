"""dropout3d and Dropout3d: whole channels of (N, C, D, H, W) or unbatched (C, D, H, W)
zeroed with probability p and the rest scaled by 1 / (1 - p), as PyTorch's (checked in
distribution and by the mask's structure, since the random streams differ); eval and p = 0
the identity, p = 1 zeros, inplace, gradients, errors, the ONNX export in evaluation."""

import warnings

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck


def _kept(y, x, p):
    """Which channels y = x * mask kept, checked whole (every cell kept or none), the kept
    ones scaled by 1 / (1 - p)."""
    kept = (y != 0).reshape(*y.shape[:-3], -1)
    np.testing.assert_array_equal(kept, kept[..., :1].repeat(kept.shape[-1], -1))
    np.testing.assert_allclose(y[y != 0], x[y != 0] / (1 - p), rtol=1e-15)
    return kept[..., 0]


@pytest.mark.parametrize("shape", [(4, 50, 2, 3, 2), (200, 3, 2, 2)], ids=str)
def test_whole_channels_scaled_and_the_rate(shape):
    ad.manual_seed(0)
    x = np.random.default_rng(0).random(shape) + 0.5
    y = F.dropout3d(ad.tensor(x), p=0.3).data
    kept = _kept(y, x, 0.3)
    dropped = 1 - kept.mean()  # 200 or 600 channels: 0.3 within 4.5 standard deviations
    assert abs(dropped - 0.3) < 4.5 * np.sqrt(0.3 * 0.7 / kept.size)


def test_layer_eval_identity_and_extremes():
    x = ad.randn(2, 3, 2, 2, 2)
    layer = nn.Dropout3d(0.5)
    assert layer.eval()(x) is x
    assert F.dropout3d(x, 0.0) is x
    assert F.dropout3d(x, 0.5, training=False) is x
    assert not F.dropout3d(x, 1.0).data.any()
    assert repr(nn.Dropout3d()) == "Dropout3d(p=0.5, inplace=False)"


def test_gradient_is_the_mask():
    ad.manual_seed(1)
    x = ad.tensor(np.random.default_rng(1).standard_normal((2, 6, 2, 2, 2)), requires_grad=True)
    y = F.dropout3d(x, 0.5)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, y.data / x.data)
    ad.manual_seed(2)
    assert gradcheck(lambda v: (ad.manual_seed(2), F.dropout3d(v, 0.4))[1], x)


def test_inplace():
    ad.manual_seed(3)
    x = ad.ones((1, 8, 2, 2, 2))
    out = F.dropout3d(x, 0.5, inplace=True)
    assert out is x
    assert set(np.unique(x.data).tolist()) <= {0.0, 2.0}


def test_pytorch_shapes_warnings_and_statistics():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    for shape in [(3, 4, 2, 2, 2), (4, 2, 2, 2)]:  # batched, and unbatched without a warning
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            t = torch.nn.functional.dropout3d(torch.ones(shape, dtype=torch.float64), 0.5)
            ours = F.dropout3d(ad.ones(shape, dtype=np.float64), 0.5)
        assert ours.shape == tuple(t.shape)
        assert set(np.unique(ours.data).tolist()) <= {0.0, 2.0} >= set(
            np.unique(t.numpy()).tolist())
    assert repr(nn.Dropout3d(0.2, True)) == repr(torch.nn.Dropout3d(0.2, True))
    # the same rate of dropped channels over many draws (both 0.25 within noise)
    x = torch.ones((400, 50, 1, 1, 1), dtype=torch.float64)
    rate_t = (torch.nn.functional.dropout3d(x, 0.25) == 0).double().mean().item()
    rate = (F.dropout3d(ad.ones((400, 50, 1, 1, 1)), 0.25).data == 0).mean()
    assert abs(rate - rate_t) < 0.02


def test_errors():
    with pytest.raises(ValueError, match=r"dropout3d: p must be in \[0, 1\], got 1.5"):
        F.dropout3d(ad.ones((2, 2, 2, 2)), 1.5)
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\], got -0.1"):
        nn.Dropout3d(-0.1)
    for shape in [(2, 3, 4), (1, 2, 3, 4, 5, 6)]:
        with pytest.raises(ValueError, match=r"dropout3d: expected \(N, C, D, H, W\) or "
                                             r"\(C, D, H, W\) unbatched, got"):
            F.dropout3d(ad.ones(shape))


def test_onnx_export_drops_it_in_evaluation(tmp_path):
    onnx = pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not "
                                              "installed")
    model = nn.Sequential(nn.Conv3d(1, 2, 1), nn.Dropout3d(0.5)).train()
    path = nn.onnx.export(model, np.ones((1, 1, 2, 3, 3), np.float32), tmp_path / "m.onnx",
                          dynamic_batch=False)
    assert [n.op_type for n in onnx.load(str(path)).graph.node] == ["Conv"]
