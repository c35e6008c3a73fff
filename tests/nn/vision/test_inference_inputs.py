"""What `predict` takes: a batch (N, C, H, W) of float images, one of them as a batch of one,
float16 to float64, an empty batch; integer images and a lone (C, H, W) are refused by name
(uint8 pixels went in as 0-255 and a lone image as C images). Image files for the `predict`
command: 8-bit files scaled by 255 (a dark JPEG was taken as [0, 1]), grey made into three
channels for a colour model (it failed in the first conv), alpha dropped."""

import argparse

import numpy as np
import pytest
from PIL import Image

import nn
from nn.vision import build, inference, models


@pytest.fixture(scope="module")
def lenet():
    return models.get_model("lenet5", num_classes=10, in_channels=1)


def test_a_batch_of_one_is_a_row_of_the_batch(lenet):
    x = np.random.default_rng(0).random((5, 1, 28, 28)).astype(np.float32)
    whole = inference.predict(lenet, x)
    for i in range(len(x)):
        np.testing.assert_allclose(inference.predict(lenet, x[i:i + 1])[0], whole[i],
                                   rtol=1e-5, atol=1e-7)
    for dtype, tol in ((np.float16, 2e-3), (np.float64, 1e-6)):
        np.testing.assert_allclose(inference.predict(lenet, x.astype(dtype)), whole, atol=tol)


def test_integer_images_and_a_lone_image_are_refused(lenet):
    x = np.zeros((2, 1, 28, 28), np.uint8)
    with pytest.raises(TypeError, match=r"predict: the images are uint8; the models take float "
                                        r"images in \[0, 1\].*x / 255"):
        inference.predict(lenet, x)
    with pytest.raises(ValueError, match=r"predict: expects a batch of images \(N, C, H, W\), "
                                         r"got shape \(1, 28, 28\); for one image \(C, H, W\) "
                                         r"pass x\[None\]"):
        inference.predict(lenet, np.zeros((1, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"got shape \(28, 28\)$"):
        inference.predict(lenet, np.zeros((28, 28), np.float32))
    with pytest.raises(ValueError, match="predict: batch_size must be a positive int, got 0"):
        inference.predict(lenet, np.zeros((2, 1, 28, 28), np.float32), batch_size=0)


@pytest.mark.parametrize("name", ["lenet5", "mobilenet", "mlp"])
def test_an_empty_batch_gives_no_rows_of_every_class(name):
    kw = {"in_features": 64} if name == "mlp" else {"in_channels": 1}
    model = models.get_model(name, num_classes=10, **kw)
    assert inference.predict(model, np.zeros((0, 1, 8, 8), np.float32)).shape == (0, 10)


def test_an_8_bit_file_is_scaled_by_255_whatever_its_brightest_pixel(tmp_path):
    pixels = np.zeros((8, 8), np.uint8)
    pixels[2:6, 2:6] = 1  # a very dark image: its maximum is 1, which read as white
    Image.fromarray(pixels, "L").save(tmp_path / "dark.jpg", quality=100)
    img = inference._read_image(str(tmp_path / "dark.jpg"), (1, 8, 8))
    assert img.dtype == np.float32 and img.max() <= 2 / 255


@pytest.mark.parametrize("mode, channels", [("L", 1), ("LA", 2), ("RGB", 3), ("RGBA", 4)])
def test_any_file_becomes_the_models_channels(tmp_path, mode, channels):
    pixels = np.full((6, 5, channels), 255, np.uint8)
    pixels[..., 0] = 51  # the first colour 0.2, the rest (and alpha) 1
    path = tmp_path / "image.png"
    Image.fromarray(pixels.squeeze(-1) if channels == 1 else pixels, mode).save(path)
    rgb = inference._read_image(str(path), (3, 6, 5))
    grey = inference._read_image(str(path), (1, 6, 5))
    assert rgb.shape == (3, 6, 5) and grey.shape == (1, 6, 5)
    first = np.full((6, 5), 0.2, np.float32)
    np.testing.assert_allclose(rgb[0], first, rtol=1e-6)
    want_grey = 0.2 if channels <= 2 else (0.2 + 1 + 1) / 3  # alpha is no colour
    np.testing.assert_allclose(grey[0], want_grey, rtol=1e-6)


def test_a_grey_file_feeds_a_colour_model(tmp_path, capsys):
    data = build.load_data("digits", seed=0, limit=4)
    data.x_test = np.repeat(data.x_test, 3, axis=1)
    data.x_train = np.repeat(data.x_train, 3, axis=1)
    path = tmp_path / "best.npz"
    nn.save({"model": build.make_model("lenet5", data).state_dict(),
             "config": {"model": "lenet5"}}, path)
    Image.fromarray(np.zeros((8, 8), np.uint8), "L").save(tmp_path / "digit.png")
    model, _ = inference.load_checkpoint(str(path), data)
    x = inference._read_image(str(tmp_path / "digit.png"), data.image_shape)[None]
    assert inference.predict(model, x).shape == (1, 10)


def test_read_checkpoint_names_a_file_that_is_not_a_checkpoint(tmp_path):
    nn.save({"weights": np.zeros(2)}, tmp_path / "other.npz")
    with pytest.raises(ValueError, match=r"other\.npz is not a checkpoint of the training command"):
        inference.read_checkpoint(tmp_path / "other.npz")


def test_export_refuses_a_file_that_is_not_a_checkpoint(tmp_path):
    """It raised KeyError: 'model'."""
    from nn.vision import export

    nn.save({"weights": np.zeros(2)}, tmp_path / "other.npz")
    with pytest.raises(SystemExit, match=r"export: .*other\.npz is not a checkpoint of the "
                                         "training command"):
        export.export_command(argparse.Namespace(run_dir=str(tmp_path / "other.npz"),
                                                 format="onnx", opset=17))
