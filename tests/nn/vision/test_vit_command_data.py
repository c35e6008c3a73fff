"""vit_small_mnist on data that is not 28x28 (digits' 8x8; before: the run crashed after loading
with 'expected 28x28 images'), and a --width its 4 heads cannot split, refused by the command
line (before: a traceback from the model's constructor)."""

import numpy as np
import pytest

import autodiff as ad
from nn.vision import build
from nn.vision import train as cmd


def test_the_patch_grid_follows_the_images_side():
    data = build.load_data("digits", seed=0, limit=8)
    model = build.make_model("vit_small_mnist", data, width=8, depth=1)
    assert (model.image_size, model.patch_size) == (8, 2)
    assert model.encoder.pos_embedding.shape == (1, 17, 8)  # 4 x 4 patches and the class token
    out = model(ad.tensor(data.x_test[:3]))
    assert out.shape == (3, data.num_classes) and np.isfinite(out.data).all()


def test_a_width_the_heads_cannot_split_is_refused_by_the_command(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cmd.main(["train", "--model", "vit_small_mnist", "--data", "digits", "--width", "10",
                  "--epochs", "1", "--out", str(tmp_path / "run"), "--no-progress"])
    assert stop.value.code == 2
    assert "argument --width: vit_small_mnist splits the width over 4 heads; give a multiple " \
           "of 4, got 10" in capsys.readouterr().err
