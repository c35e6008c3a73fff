"""The package people depend on: one version, a typed API that mypy --strict accepts in a
user's script, and a wheel that builds, carries py.typed and the license, and works from a
fresh virtual environment outside this checkout (the README's example run there)."""

import re
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

import autodiff
import nn

ROOT = Path(__file__).resolve().parents[1]

USER_SCRIPT = '''
import numpy as np

import autodiff as ad
import nn
import nn.functional as F
from autodiff import Tensor
from autodiff.testing import gradcheck


def model(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    return ad.tanh(x @ w + b)


def main() -> float:
    ad.manual_seed(0)
    w = ad.randn(3, 2, requires_grad=True)
    b = ad.zeros(2, requires_grad=True)
    x = ad.tensor(np.ones((4, 3), dtype=np.float32))
    loss = (model(x, w, b) ** 2).mean()
    loss.backward()
    assert w.grad is not None
    layer = nn.Linear(3, 2)
    opt = nn.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
    out = F.cross_entropy(layer(x), np.array([0, 1, 0, 1]))
    opt.zero_grad()
    out.backward()
    opt.step()
    g: Tensor = ad.grad(lambda t: (t ** 3).sum())(ad.tensor([1.0, 2.0]))
    assert gradcheck(lambda t: t.tanh() * t, ad.tensor([0.5], dtype="float64"))
    with ad.no_grad():
        y: Tensor = layer(x)  # Module.__call__ returns Any, as PyTorch's: annotate
    return float(g.sum().item()) + y.shape[0] + loss.item()
'''


def test_one_version():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and "autodiff.__version__" in pyproject
    assert re.fullmatch(r"\d+\.\d+\.\d+", autodiff.__version__)
    assert nn.__version__ == autodiff.__version__
    assert f"## [{autodiff.__version__}]" in (ROOT / "CHANGELOG.md").read_text()


@pytest.mark.slow
def test_mypy_strict_accepts_a_user_script(tmp_path):
    pytest.importorskip("mypy", reason="mypy is in the dev extra")
    script = tmp_path / "user_script.py"
    script.write_text(USER_SCRIPT)
    # Run from the checkout, as a user's project sees an installed package: the script is
    # checked strictly, the library's own modules are read for their types only.
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                        "--cache-dir", str(tmp_path / "cache"), str(script)],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.slow
def test_wheel_builds_and_works_in_a_fresh_venv(tmp_path):
    pytest.importorskip("build", reason="build is in the dev extra")
    # Built from a copy of what the wheel is made of: setuptools' build/ folder in the checkout
    # could hold modules deleted since, and tests running at once would share it.
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("autodiff", "nn"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    dist = tmp_path / "dist"
    r = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation",
                        "--outdir", str(dist), str(source)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    (wheel,) = dist.glob("*.whl")
    assert f"-{autodiff.__version__}-" in wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert "autodiff/py.typed" in names and "nn/py.typed" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "benchmarks/", "docs/")) for n in names)

    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    r = subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    readme = (ROOT / "README.md").read_text()
    quick_start = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    check = quick_start + (
        "\nimport autodiff, nn\n"
        "assert 'site-packages' in autodiff.__file__, autodiff.__file__\n"
        f"assert nn.__version__ == {autodiff.__version__!r}\n")
    work = tmp_path / "elsewhere"  # not the checkout: the installed copy is imported
    work.mkdir()
    r = subprocess.run([str(python), "-c", check], cwd=work, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "(3, 4)" in r.stdout
