"""Rendering through the real `dot` program (CI installs Graphviz), and its absence."""

import shutil
from pathlib import Path

import pytest

import autodiff as ad
from autodiff import viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot program is not installed here; "
                                      ".ci/run installs it")


@needs_dot
def test_svg_contains_the_labels(tmp_path):
    w = ad.tensor([0.5, 2.0], requires_grad=True, name="weights")
    path = viz.render((w * w).sum(), path=str(tmp_path / "g.svg"))
    svg = Path(path).read_text()
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg
    assert "weights" in svg and "mul" in svg and "(2,) float32" in svg


@needs_dot
def test_png_pdf_and_jupyter(tmp_path):
    x = ad.tensor([1.0], requires_grad=True)
    y = x.exp()
    assert Path(viz.render(y, path=str(tmp_path / "g.png"))).read_bytes()[:4] == b"\x89PNG"
    assert Path(viz.render(y, path=str(tmp_path / "g.pdf"))).read_bytes()[:4] == b"%PDF"
    g = viz.draw(y)
    bundle = g._repr_mimebundle_()
    assert "image/svg+xml" in bundle and "exp" in bundle["image/svg+xml"]


def test_clear_error_without_dot_and_dot_text_still_works(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    y = ad.tensor([1.0], requires_grad=True) * 2
    assert not viz.dot_available()
    with pytest.raises(viz.GraphvizMissing, match="apt-get install graphviz"):
        viz.render(y, path=str(tmp_path / "g.svg"))
    assert "mul" in viz.to_dot(y)
    assert "mul" in Path(viz.render(y, path=str(tmp_path / "g.dot"))).read_text()
