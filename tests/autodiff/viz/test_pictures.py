"""docs/make_pictures.py draws every picture of docs/visualization.md and docs/deploy.md (the
exported LeNet-5 where the onnx package is installed)."""

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "docs" / "make_pictures.py"


def test_make_pictures(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("make_pictures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    paths = module.main(["--out", str(tmp_path)])
    names = {p.stem for p in paths}
    onnx = importlib.util.find_spec("onnx") is not None
    assert names == {"neuron", "two_layer", "layer_forward", "layer_backward",
                     "layer_gradients", "collapsed_cnn", "lenet5_engine"} | (
                         {"lenet5_onnx"} if onnx else set())
    assert not list(tmp_path.glob("*.onnx"))  # the exported file is not kept
    for p in paths:
        assert p.stat().st_size > 200
    gradients = next(p for p in paths if p.stem == "layer_gradients").read_text()
    assert "dZ" in gradients and "dW" in gradients and "db" in gradients
