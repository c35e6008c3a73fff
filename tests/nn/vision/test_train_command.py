"""The command end to end on digits (one quick epoch): every output written and readable."""

import json
import subprocess
import sys

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
    r = subprocess.run([sys.executable, "-m", "nn.vision", "train", "--model", "vgg"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "unknown model 'vgg'" in r.stderr
    r = subprocess.run([sys.executable, "-m", "nn.vision", "train", "--data", "imagenet"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "unknown dataset 'imagenet'" in r.stderr
