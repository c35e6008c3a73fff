"""transforms.Resize: bilinear, antialiased when shrinking (torchvision's default), which the
`predict` command uses on image files. It used plain bilinear, which reads 2 x 2 pixels per
output: a 5-pixel stroke of a 280 x 280 drawing vanished at 28 x 28."""

import itertools

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from nn.vision import inference
from nn.vision import transforms as T


def stroke(left, width=5, side=280):
    x = np.zeros((1, side, side), np.float32)
    x[:, 40:240, left:left + width] = 1.0
    return x


@pytest.mark.parametrize("left", [100, 106, 133])
def test_a_thin_stroke_keeps_its_ink(left):
    x = stroke(left)
    y = T.Resize(28)(x)
    assert y.shape == (1, 28, 28) and y.dtype == np.float32
    np.testing.assert_allclose(y.mean(), x.mean(), rtol=0.02)
    if left == 106:  # between plain bilinear's samples (104.5, 114.5): nothing left
        plain = F.interpolate(ad.tensor(x[None]), size=(28, 28), mode="bilinear").data
        assert plain.max() == 0


def test_a_file_read_for_predict_keeps_a_thin_stroke(tmp_path):
    from PIL import Image

    Image.fromarray((stroke(106)[0] * 255).astype(np.uint8), "L").save(tmp_path / "d.png")
    img = inference._read_image(str(tmp_path / "d.png"), (1, 28, 28))
    np.testing.assert_allclose(img.mean(), stroke(106).mean(), rtol=0.02)


def test_enlarging_is_plain_bilinear_and_the_same_size_is_the_identity():
    x = np.random.default_rng(0).random((2, 3, 5, 4))
    want = F.interpolate(ad.tensor(x), size=(9, 11), mode="bilinear").data
    np.testing.assert_allclose(T.Resize((9, 11))(x), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(T.Resize((5, 4))(x), x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(T.Resize((2, 2))(np.full((1, 7, 9), 0.3)), 0.3)


def test_resize_errors():
    with pytest.raises(ValueError, match=r"Resize: size must be a positive int or "
                                         r"\(height, width\), got 0"):
        T.Resize(0)
    with pytest.raises(TypeError, match="Resize: expects float images, got uint8"):
        T.Resize(2)(np.zeros((1, 4, 4), np.uint8))


def test_resize_equals_pytorchs_antialiased_bilinear():
    """Every pair of sizes from 2 to 12 each way (PyTorch's antialias gives every output row
    the first one's value when the width is 1, (4, 1) -> (2, 1) giving [0.714, 0.714] for
    0..3 instead of [0.714, 2.286]: sizes of 1 are left out)."""
    torch = pytest.importorskip("torch", reason="comparison with PyTorch's interpolate")
    rng = np.random.default_rng(0)
    worst = 0.0
    for h, w in itertools.product([2, 5, 12], repeat=2):
        x = rng.random((2, 2, h, w))
        for oh, ow in itertools.product([2, 3, 7, 12], repeat=2):
            want = torch.nn.functional.interpolate(torch.from_numpy(x), size=(oh, ow),
                                                   mode="bilinear", antialias=True).numpy()
            worst = max(worst, float(np.abs(T.Resize((oh, ow))(x) - want).max()))
    assert worst < 1e-12
