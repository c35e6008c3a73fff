"""docs/numpy.md is what docs/make_numpy_page.py writes from the op registry now: registering
an op, or changing its NumPy names, methods or convention, changes the page."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _generator():
    spec = importlib.util.spec_from_file_location("make_numpy_page",
                                                  ROOT / "docs" / "make_numpy_page.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_numpy_page_is_current():
    diff = _generator().stale(ROOT / "docs" / "numpy.md")
    assert not diff, ("docs/numpy.md is stale: run `python docs/make_numpy_page.py` and commit "
                      "docs/numpy.md\n" + diff)


def test_a_stale_page_is_reported_with_the_difference(tmp_path):
    generator = _generator()
    page = tmp_path / "numpy.md"
    page.write_text(generator.page().replace("| `ad.exp` |", "| `ad.exp_old` |"))
    diff = generator.stale(page)
    assert "-| `ad.exp_old` |" in diff and "+| `ad.exp` |" in diff
    page.write_text(generator.page())
    assert generator.stale(page) == ""
