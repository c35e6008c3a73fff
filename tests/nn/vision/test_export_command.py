"""`python -m nn.vision export RUN_DIR --format onnx` end to end: a one-epoch digits run, its
checkpoint exported next to it, the file run by ONNX Runtime against the engine."""

import numpy as np
import pytest

import autodiff as ad
import nn
from nn.vision import datasets
from nn.vision import train as cmd

ort = pytest.importorskip("onnxruntime",
                          reason="the optional extra 'export' (onnxruntime) is not installed")
pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not installed")


@pytest.mark.slow
def test_export_a_training_run(tmp_path, capsys):
    out = tmp_path / "run"
    cmd.main(["train", "--model", "resnet8", "--width", "4", "--data", "digits", "--epochs",
              "1", "--limit", "200", "--out", str(out), "--no-progress"])
    result = cmd.main(["export", str(out), "--format", "onnx"])
    assert result["path"] == out / "model.onnx" and result["max_abs_diff"] < 1e-5
    assert "ONNX Runtime's logits on 8 test images are the engine's" in capsys.readouterr().out

    ck = nn.load(out / "best.npz")
    model = cmd.make_model("resnet8", datasets.digits(), width=4)
    model.load_state_dict(ck["model"])
    model.eval()
    x = datasets.digits().x_test[:7]
    with ad.no_grad():
        want = model(ad.tensor(x)).numpy()
    (got,) = ort.InferenceSession(str(out / "model.onnx")).run(None, {"input": x})
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    again = cmd.main(["export", str(out / "best.npz"), "--opset", "18"])  # a checkpoint file
    assert again["path"] == out / "model.onnx"


def test_export_without_a_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match=r"best\.npz not found"):
        cmd.main(["export", str(tmp_path)])


def test_export_reads_best_safetensors_as_best_npz(tmp_path):
    """best.safetensors holds the weights and, in its metadata, the config (it raised KeyError:
    'model')."""
    out = tmp_path / "run"
    cmd.main(["train", "--model", "mlp", "--width", "8", "--depth", "1", "--data", "digits",
              "--epochs", "1", "--limit", "60", "--out", str(out), "--no-progress"])
    result = cmd.main(["export", str(out / "best.safetensors")])
    assert result["path"] == out / "model.onnx" and result["max_abs_diff"] < 1e-5
