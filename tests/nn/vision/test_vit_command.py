"""vit_small_mnist through the training command as the other models: train, save, load,
evaluate, predict (one tiny epoch on MNIST-5k)."""

import pytest

import nn
from nn.vision import train as cmd


@pytest.mark.slow
def test_vit_small_mnist_train_evaluate_predict(tmp_path):
    out = tmp_path / "run"
    metrics = cmd.main(["train", "--model", "vit_small_mnist", "--data", "mnist-5k",
                        "--epochs", "1", "--limit", "128", "--width", "16", "--depth", "1",
                        "--optimizer", "adamw", "--lr", "0.003", "--out", str(out),
                        "--no-progress"])
    ck = nn.load(out / "best.npz")
    assert ck["config"]["model"] == "vit_small_mnist"
    assert ck["model"]["encoder.pos_embedding"].shape == (1, 17, 16)
    ev = cmd.main(["evaluate", str(out / "best.npz"), "--data", "mnist-5k", "--limit", "128"])
    assert ev["test_accuracy"] == metrics["test_accuracy"]
    preds = cmd.main(["predict", str(out / "best.npz"), "--data", "mnist-5k", "--count", "2",
                      "--top-k", "3"])
    assert len(preds) == 2 and len(preds[0]) == 3
