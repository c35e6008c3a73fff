"""VisionTransformer's constructor arguments checked by name (before: ZeroDivisionError for
patch_size=0 or in_channels=0, NumPy's errors for negative sizes, a model for image_size=0),
and an empty batch (before: a reshape error)."""

import numpy as np
import pytest

import autodiff as ad
from nn.vision.vit import VisionTransformer, vit_tiny

SMALL = dict(image_size=8, patch_size=4, num_layers=1, num_heads=2, hidden_dim=8, mlp_dim=16,
             num_classes=3, in_channels=1)
INT = "must be an integer >= 1, got"


@pytest.mark.parametrize("kw, message", [
    ({"patch_size": 0}, f"patch_size {INT} 0"),
    ({"patch_size": -4}, f"patch_size {INT} -4"),
    ({"in_channels": 0}, f"in_channels {INT} 0"),
    ({"image_size": 0}, f"image_size {INT} 0"),
    ({"num_classes": 0}, f"num_classes {INT} 0"),
    ({"num_classes": 2.5}, f"num_classes {INT} 2.5"),
    ({"num_heads": 0}, f"num_heads {INT} 0"),
    ({"hidden_dim": 0}, f"hidden_dim {INT} 0"),
    ({"mlp_dim": 0}, f"mlp_dim {INT} 0"),
    ({"num_layers": -1}, "num_layers must be an integer >= 0, got -1"),
    ({"hidden_dim": 9}, r"hidden_dim 9 is not a multiple of num_heads 2"),
])
def test_bad_arguments_are_named(kw, message):
    with pytest.raises(ValueError, match=f"VisionTransformer: {message}"):
        VisionTransformer(**{**SMALL, **kw})


def test_vit_tiny_passes_num_classes_through_the_check():
    with pytest.raises(ValueError, match=f"VisionTransformer: num_classes {INT} 0"):
        vit_tiny(num_classes=0)


def test_an_empty_batch_gives_no_rows():
    model = VisionTransformer(**SMALL)
    assert model(ad.zeros((0, 1, 8, 8))).shape == (0, 3)
    assert model.tokens(ad.zeros((0, 1, 8, 8))).shape == (0, 5, 8)
    out = model(ad.tensor(np.ones((2, 1, 8, 8), np.float32)))
    assert out.shape == (2, 3)
