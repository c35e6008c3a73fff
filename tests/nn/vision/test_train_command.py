"""The command end to end on digits (one quick epoch): every output written and readable."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nn
from nn.vision import train as cmd


def test_train_evaluate_predict(tmp_path, capsys):
    out = tmp_path / "run"
    metrics = cmd.main(["train", "--model", "lenet5", "--data", "digits", "--epochs", "1",
                        "--limit", "300", "--out", str(out), "--no-progress",
                        "--optimizer", "sgd", "--lr", "0.05", "--schedule", "step"])
    names = {p.name for p in out.iterdir()}
    assert {"best.npz", "curves.png", "confusion.png", "metrics.json"} <= names
    assert "graph.svg" in names or "graph.dot" in names
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["test_accuracy"] == metrics["test_accuracy"] and len(saved["confusion"]) == 10
    import matplotlib.image as mpimg

    assert mpimg.imread(out / "curves.png").ndim == 3
    assert mpimg.imread(out / "confusion.png").shape[0] > 100
    ck = nn.load(out / "best.npz")
    assert ck["config"]["model"] == "lenet5" and "features.0.weight" in ck["model"]
    ev = cmd.main(["evaluate", str(out / "best.npz"), "--data", "digits", "--limit", "300"])
    assert ev["test_accuracy"] == pytest.approx(metrics["test_accuracy"])
    preds = cmd.main(["predict", str(out / "best.npz"), "--data", "digits", "--count", "2",
                      "--top-k", "3"])
    assert len(preds) == 2 and len(preds[0]) == 3
    assert abs(sum(p for _, p in preds[0])) <= 1.0 + 1e-6
    import matplotlib.pyplot as plt

    img = tmp_path / "digit.png"
    plt.imsave(img, np.random.default_rng(0).random((8, 8)), cmap="gray")
    assert len(cmd.main(["predict", str(out / "best.npz"), str(img), "--data", "digits"])) == 1


@pytest.mark.slow
def test_sweep(tmp_path):
    # sweep is `search --sampler grid --pruner none` (tests/nn/vision/test_search.py): every
    # configuration trained, one row each in search.csv
    rows = cmd.main(["sweep", "--model", "mlp", "--data", "digits", "--epochs", "1", "--limit",
                     "200", "--lr", "0.001", "0.01", "--out", str(tmp_path)])
    assert sorted(r["lr"] for r in rows) == [0.001, 0.01]
    assert all(r["state"] == "complete" and r["epochs"] == 1 for r in rows)
    assert (tmp_path / "search.csv").read_text().startswith("number,state,lr,val_accuracy")
    assert (tmp_path / "history.png").exists() and (tmp_path / "best" / "best.npz").exists()


def test_unknown_names_are_clear_errors():
    root = Path(__file__).resolve().parents[3]
    for flag, value, message in [("--model", "vgg", "unknown model 'vgg'"),
                                 ("--data", "imagenet", "unknown dataset 'imagenet'")]:
        r = subprocess.run([sys.executable, "-m", "nn.vision", "train", flag, value],
                           capture_output=True, text=True, cwd=root,
                           env={**os.environ, "PYTHONPATH": str(root)})
        assert r.returncode == 2 and message in r.stderr


# -- best.safetensors: the weights alone, the architecture in its metadata ---------------------


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A tiny run (an MLP, 1 epoch on 300 digits) and its metrics."""
    out = tmp_path_factory.mktemp("run")
    metrics = cmd.main(["train", "--model", "mlp", "--width", "24", "--depth", "1", "--data",
                        "digits", "--epochs", "1", "--limit", "300", "--out", str(out),
                        "--no-progress", "--lr", "0.05"])
    return out, metrics


def test_best_safetensors_holds_the_weights_of_best_npz(digits_run):
    import safetensors.numpy

    out, _ = digits_run
    ck = nn.load(out / "best.npz")
    weights = safetensors.numpy.load_file(out / "best.safetensors")  # as PyTorch's loader sees
    assert sorted(weights) == sorted(ck["model"]) == ["net.1.bias", "net.1.weight",
                                                      "net.4.bias", "net.4.weight"]
    for k, v in ck["model"].items():
        np.testing.assert_array_equal(weights[k], v)
    meta = nn.load_metadata(out / "best.safetensors")
    assert json.loads(meta["config"]) == ck["config"] and meta["epoch"] == str(ck["epoch"])


def test_evaluate_and_predict_read_best_safetensors_as_best_npz(digits_run, capsys):
    out, metrics = digits_run
    flags = ["--data", "digits", "--limit", "300"]
    by_npz = cmd.main(["evaluate", str(out / "best.npz"), *flags])
    by_weights = cmd.main(["evaluate", str(out / "best.safetensors"), *flags])
    assert by_weights == by_npz == {"test_accuracy": metrics["test_accuracy"], "epoch": 1}
    flags = ["--data", "digits", "--count", "3", "--top-k", "2"]
    assert (cmd.main(["predict", str(out / "best.safetensors"), *flags])
            == cmd.main(["predict", str(out / "best.npz"), *flags]))
    assert "best.safetensors: test accuracy" in capsys.readouterr().out


def test_weights_without_an_architecture_are_refused_saying_what_to_add(digits_run, tmp_path):
    out, _ = digits_run
    state = nn.load(out / "best.safetensors")
    flags = ["--data", "digits", "--limit", "50"]
    cases = {"none": (None, r"does not say which model its weights are for: its metadata has "
                            r"no 'config' .*metadata=\{\"config\": '\{\"model\": \"resnet8\""),
             "corrupt": ({"config": "{model: mlp"}, r"config or epoch is corrupt"),
             "epoch": ({"config": '{"model": "mlp"}', "epoch": "one"}, r"config or epoch is "
                                                                         r"corrupt"),
             "list": ({"config": '["mlp"]'}, r"config is not a JSON object: \[\"mlp\"\]")}
    for name, (metadata, match) in cases.items():
        path = tmp_path / f"{name}.safetensors"
        nn.save(state, path, metadata=metadata)
        with pytest.raises(ValueError, match=rf"{name}.safetensors.*{match}"):
            cmd.main(["evaluate", str(path), *flags])
    nn.save(state, tmp_path / "weights.npz")
    with pytest.raises(ValueError, match=r"weights.npz is not a checkpoint of the training "
                                         r"command \(it holds no 'model' state dict\)"):
        cmd.main(["evaluate", str(tmp_path / "weights.npz"), *flags])


def test_weights_saved_elsewhere_load_with_a_config_in_their_metadata(digits_run, tmp_path):
    import safetensors.numpy

    out, metrics = digits_run
    path = tmp_path / "from-elsewhere.safetensors"  # as safetensors.torch.save_file would write
    safetensors.numpy.save_file(dict(nn.load(out / "best.safetensors")), path, metadata={
        "format": "pt", "config": '{"model": "mlp", "width": 24, "depth": 1}'})
    result = cmd.main(["evaluate", str(path), "--data", "digits", "--limit", "300"])
    assert result == {"test_accuracy": metrics["test_accuracy"], "epoch": None}
