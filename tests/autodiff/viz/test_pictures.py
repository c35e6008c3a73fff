"""docs/make_pictures.py draws every picture of docs/visualization.md and docs/deploy.md (the
exported LeNet-5 where the onnx package is installed)."""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "docs" / "make_pictures.py"


@pytest.mark.slow
def test_make_pictures(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("make_pictures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    paths = module.main(["--out", str(tmp_path)])
    names = {p.stem for p in paths}
    onnx = importlib.util.find_spec("onnx") is not None
    assert names == {"neuron", "two_layer", "layer_forward", "layer_backward",
                     "layer_gradients", "collapsed_cnn", "lenet5_engine", "schedules"} | (
                         {"lenet5_onnx"} if onnx else set())
    assert not list(tmp_path.glob("*.onnx"))  # the exported file is not kept
    for p in paths:
        assert p.stat().st_size > 200
    gradients = next(p for p in paths if p.stem == "layer_gradients").read_text()
    assert "dZ" in gradients and "dW" in gradients and "db" in gradients
    assert next(p for p in paths if p.stem == "schedules").read_bytes()[:4] == b"\x89PNG"


def test_the_schedules_picture_draws_every_schedule_the_way_it_steps():
    spec = importlib.util.spec_from_file_location("make_pictures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    curves = module.schedule_curves()
    assert len(curves) == 12
    lrs, momenta = curves["OneCycleLR(max_lr=1, 60 steps)"]
    assert lrs[0] == pytest.approx(1 / 25) and max(lrs) == pytest.approx(1.0)
    assert momenta[0] == 0.95 and min(momenta) == pytest.approx(0.85)
    restarts, _ = curves["CosineAnnealingWarmRestarts(5, 2)"]
    assert [e for e in range(1, 60) if restarts[e] > restarts[e - 1]] == [5, 15, 35]
    plateau, _ = curves["ReduceLROnPlateau(patience=5)"]
    assert plateau[0] == 1.0 and plateau[-1] < 1.0
