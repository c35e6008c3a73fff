"""The demo's define-by-run script trains: far above chance in a few hundred steps."""

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "spiral_mlp.py"


def load():
    spec = importlib.util.spec_from_file_location("spiral_mlp", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_spiral_mlp_learns(capsys):
    result = load().main(["--iterations", "300", "--points", "100", "--print-every", "0"])
    assert result.train_accuracy > 0.85 and result.test_accuracy > 0.8
    assert "test accuracy" in capsys.readouterr().out
