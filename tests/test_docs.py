"""The docs never lie: every ```python block in docs/**/*.md runs (blocks of one page share a
namespace, in order, in a temporary working directory). A block fenced as ```py is shown only
(highlighted as Python, not run). Every page is in the site's nav, its display math is laid
out so that the site renders it, and the API pages show every public name."""

import importlib
import inspect
import re
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```", re.S | re.M)
PAGES = sorted(DOCS.rglob("*.md"))


def test_there_are_pages():
    assert PAGES, "docs/ has no pages"


SLOW_PAGES = {"vision.md", "tutorials/training-a-cnn.md"}  # they train: more than 5 s each


@pytest.mark.parametrize("page", [
    pytest.param(p, marks=pytest.mark.slow) if str(p.relative_to(DOCS)) in SLOW_PAGES else p
    for p in PAGES], ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_code_blocks_run(page, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # files a page writes (graph.svg, ...) land here
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for i, block in enumerate(BLOCK.findall(page.read_text())):
        code = compile(block, f"{page.relative_to(DOCS)}[block {i}]", "exec")
        exec(code, namespace)


def prose_lines(page: Path) -> list[str]:
    """The page's lines outside code fences."""
    lines, fenced = [], False
    for line in page.read_text().splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def glued_display_math(lines: list[str]) -> list[str]:
    """Display formulas ($$ opening a line) with text right above them: the site renders
    $$...$$ as display math only as a block of its own; glued to a paragraph it shows stray
    dollars."""
    glued, in_math = [], False
    for i, line in enumerate(lines):
        if in_math:
            in_math = "$$" not in line
        elif line.lstrip().startswith("$$"):
            if i and lines[i - 1].strip():
                glued.append(line.strip())
            in_math = line.count("$$") == 1
    return glued


def test_glued_display_math_is_found():
    assert glued_display_math(["text", "$$x$$"]) == ["$$x$$"]
    assert glued_display_math(["text", "", "$$x", "= y$$", "text"]) == []


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_display_math_stands_alone(page):
    glued = glued_display_math(prose_lines(page))
    assert not glued, f"put a blank line before these formulas: {glued}"


def test_every_page_is_in_the_nav():
    nav = (DOCS.parent / "mkdocs.yml").read_text()
    missing = [str(p.relative_to(DOCS)) for p in PAGES if str(p.relative_to(DOCS)) not in nav]
    assert not missing, f"add to mkdocs.yml's nav: {missing}"


def api_blocks() -> set[str]:
    """The identifiers of the `::: identifier` blocks of docs/api/*.md."""
    return {name for page in (DOCS / "api").glob("*.md")
            for name in re.findall(r"^::: ([\w.]+)", page.read_text(), re.M)}


def test_api_pages_show_every_public_name():
    """A `::: package` block shows the package's `__all__`, except what griffe cannot see
    there: a public submodule (it needs a block of its own) and a function named as the
    submodule that defines it (`autodiff.tensor`, `autodiff.testing.gradcheck`: griffe sees
    the submodule, a known limit; the function needs a block of its own)."""
    blocks = api_blocks()
    missing = []
    for name in sorted(blocks):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue  # a block for a function or a class
        for member in getattr(module, "__all__", []):
            obj = getattr(module, member)
            if inspect.ismodule(obj):
                needed = obj.__name__
            elif f"{name}.{member}" in sys.modules:  # shadowed by a submodule of that name
                needed = f"{obj.__module__}.{obj.__qualname__}"
            else:
                continue
            if needed not in blocks:
                missing.append(f"{name}.{member} needs '::: {needed}'")
    assert not missing, missing
