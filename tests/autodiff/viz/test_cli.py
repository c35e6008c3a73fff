"""python -m autodiff.viz SCRIPT.py --out graph.svg, end to end."""

import shutil
import subprocess
import sys

SCRIPT = '''
import autodiff as ad
import nn
import nn.functional as F

model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
x = ad.ones((5, 3))
loss = F.cross_entropy(model(x), [0, 1, 0, 1, 1])
'''


def run(tmp_path, *args, env=None):
    script = tmp_path / "model.py"
    script.write_text(SCRIPT)
    return subprocess.run([sys.executable, "-m", "autodiff.viz", str(script), *args],
                          capture_output=True, text=True, cwd=tmp_path, env=env)


def test_draws_the_loss(tmp_path):
    out = tmp_path / ("g.svg" if shutil.which("dot") else "g.dot")
    r = run(tmp_path, "--out", str(out))
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert "0.weight" in text and "2.bias" in text


def test_dot_text_and_missing_variable(tmp_path):
    r = run(tmp_path, "--out", str(tmp_path / "g.dot"), "--view", "backward")
    assert r.returncode == 0 and "backward" in (tmp_path / "g.dot").read_text()
    r = run(tmp_path, "--var", "nothing")
    assert r.returncode == 2 and "--var" in r.stderr


def test_without_dot_writes_dot_text(tmp_path):
    env = {"PATH": str(tmp_path), "PYTHONPATH": ":".join(sys.path)}
    r = run(tmp_path, "--out", str(tmp_path / "g.svg"), env=env)
    assert r.returncode == 0, r.stderr
    assert "not installed" in r.stderr and (tmp_path / "g.dot").exists()
