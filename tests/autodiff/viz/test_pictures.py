"""docs/make_pictures.py draws every picture of docs/visualization.md."""

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
    assert names == {"neuron", "two_layer", "layer_forward", "layer_backward",
                     "layer_gradients", "collapsed_cnn"}
    for p in paths:
        assert p.stat().st_size > 200
    gradients = next(p for p in paths if p.stem == "layer_gradients").read_text()
    assert "dZ" in gradients and "dW" in gradients and "db" in gradients
