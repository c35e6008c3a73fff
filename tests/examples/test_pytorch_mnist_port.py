"""PyTorch's MNIST example ported (examples/pytorch_mnist_port.py): the diff docs/from-pytorch.md
shows is the whole difference from the original, and the port trains.

The original is not kept here: the page's diff, applied in reverse to the port, must give back
pytorch/examples' mnist/main.py byte for byte (its git blob id below, which anyone can check
with `git ls-tree d0b7e37 mnist/main.py` in that repository). After changing the port, rewrite
the page's diff from a copy of the original:

    python tests/examples/test_pytorch_mnist_port.py path/to/original/main.py
"""

from __future__ import annotations

import difflib
import hashlib
import re
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PORT = ROOT / "examples" / "pytorch_mnist_port.py"
PAGE = ROOT / "docs" / "from-pytorch.md"
ORIGINAL_BLOB = "dee5a384cb2c43acf7c7ce8e521330ccd01c6e92"  # mnist/main.py at commit d0b7e37
LABELS = ("pytorch/examples/mnist/main.py", "examples/pytorch_mnist_port.py")
BLOCK = re.compile(r"^```diff\n(.*?)^```", re.S | re.M)


def port_code(text: str) -> str:
    """The port without its header (a note and the original's license, which end at the
    `# ruff: noqa` line): the page's diff is of the code."""
    return text.split("# ruff: noqa", 1)[1].split("\n", 1)[1]


def unified_diff(original: str, code: str) -> str:
    return "".join(difflib.unified_diff(original.splitlines(keepends=True),
                                        code.splitlines(keepends=True), *LABELS))


def page_diff() -> str:
    (block,) = BLOCK.findall(PAGE.read_text())
    return block


def reverse(diff: str, code: str) -> str:
    """The original: `code` with each hunk of `diff` undone (its '+' lines back to '-')."""
    new = code.splitlines(keepends=True)
    out, at = [], 0
    for hunk in re.split(r"^(?=@@ )", diff.split("\n", 2)[2], flags=re.M)[1:]:
        head, *lines = hunk.splitlines(keepends=True)
        line_no, count = re.match(r"@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))?", head).groups()
        start = int(line_no) - (count != "0")  # a hunk of 0 new lines starts after its line
        out += new[at:start]
        at = start
        for line in lines:
            if line[0] in " +":
                assert new[at] == line[1:], f"the page's diff does not apply at line {at + 1}"
                at += 1
            if line[0] in " -":
                out.append(line[1:])
    return "".join(out + new[at:])


def git_blob_id(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_the_pages_diff_is_the_whole_difference_from_the_original():
    code = port_code(PORT.read_text())
    diff = page_diff()
    original = reverse(diff, code)
    assert git_blob_id(original) == ORIGINAL_BLOB, (
        "the page's diff, undone on the port, is not pytorch/examples' mnist/main.py: "
        "rewrite it (see this file's docstring)")
    assert unified_diff(original, code) == diff  # and it is difflib's, not a hand edit


def test_the_page_explains_every_changed_line():
    """Each line the port changed or added, imports aside, is quoted in the page's prose."""
    prose = BLOCK.sub("", PAGE.read_text())
    changed = {line[1:].split("  #")[0].strip() for line in page_diff().splitlines()[2:]
               if line[:1] in "+-" and line[1:].strip()}
    code = {line for line in changed if not line.startswith(("import ", "from "))}
    assert "output = F.log_softmax(x, axis=1)" in code
    unexplained = [line for line in sorted(code) if f"`{line}`" not in prose]
    assert not unexplained, f"docs/from-pytorch.md does not say why these changed: {unexplained}"


def test_the_port_runs_a_batch_with_the_library_as_it_is(load_example, capsys):
    """The port's Net, train and test on a few examples, with SGD (Adadelta may be missing)."""
    import numpy as np

    import autodiff as ad
    import nn

    port = load_example("pytorch_mnist_port")
    ad.manual_seed(0)
    model = port.Net()
    x = np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32)
    loader = nn.data.DataLoader(nn.data.TensorDataset(x, np.arange(8) % 10), batch_size=4)
    args = type("Args", (), {"log_interval": 1, "dry_run": False})()
    port.train(args, model, "cpu", loader, nn.optim.SGD(model.parameters(), lr=0.01), 1)
    port.test(model, "cpu", loader)
    out = capsys.readouterr().out
    assert "Train Epoch: 1 [4/8 (50%)]" in out and re.search(r"Accuracy: \d/8", out)
    assert model(ad.tensor(x[:2])).shape == (2, 10)


@pytest.mark.slow
def test_the_port_trains_two_epochs_on_mnist_5k(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [str(PORT), "--epochs", "2", "--test-batch-size", "250",
                                      "--log-interval", "1000"])
    runpy.run_path(str(PORT), run_name="__main__")
    accuracy = [int(a) for a in re.findall(r"Accuracy: (\d+)/1000", capsys.readouterr().out)]
    assert len(accuracy) == 2 and accuracy[1] >= 930  # measured: 960 (96%), in 54 s


if __name__ == "__main__":  # rewrite the page's diff: python <this file> <original main.py>
    original = Path(sys.argv[1]).read_text()
    if git_blob_id(original) != ORIGINAL_BLOB:
        sys.exit(f"{sys.argv[1]} is not mnist/main.py at d0b7e37 (blob {ORIGINAL_BLOB})")
    text = PAGE.read_text()
    (block,) = BLOCK.finditer(text)
    diff = unified_diff(original, port_code(PORT.read_text()))
    PAGE.write_text(text[:block.start(1)] + diff + text[block.end(1):])
