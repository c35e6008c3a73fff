"""SciPy is an optional extra: the engine never imports it, autodiff.scipy says which extra
to install when it is missing, and the test suite collects without it. Each check runs in a
fresh interpreter (this one may have SciPy loaded already); "without SciPy" blocks the import
(sys.modules["scipy"] = None)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BLOCK = "import sys; sys.modules['scipy'] = None\n"


def run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)


def test_the_engine_never_imports_scipy():
    r = run("import sys, numpy as np, autodiff as ad\n"
            "x = ad.tensor([0.5], requires_grad=True)\n"
            "(np.exp(x) + ad.logsumexp(x) + ad.softmax(x)).sum().backward()\n"
            "assert not any(m == 'scipy' or m.startswith('scipy.') for m in sys.modules), "
            "sorted(m for m in sys.modules if m.startswith('scipy'))\n"
            "print(ad.__file__)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(str(ROOT))


def test_without_scipy_the_import_names_the_extra():
    r = run(BLOCK + "import autodiff as ad\n"
            "try:\n"
            "    from autodiff.scipy import special\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    assert r.returncode == 0, r.stderr
    assert "pip install 'autodiff-nn[scipy]'" in r.stdout


@pytest.mark.slow
def test_without_scipy_the_suite_still_collects():
    """conftest.py leaves autodiff/scipy's doctests out; the test modules skip."""
    r = run(BLOCK + "import pytest\n"
            "sys.exit(pytest.main(sys.argv[1:]))",
            "--collect-only", "-q", "-p", "no:cacheprovider", "autodiff",
            "tests/autodiff/scipy/test_special.py", "tests/autodiff/scipy/test_stats.py")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "autodiff/scipy" not in r.stdout and "tests/autodiff/scipy" not in r.stdout
    assert "autodiff/tensor.py" in r.stdout  # the engine's doctests are there
