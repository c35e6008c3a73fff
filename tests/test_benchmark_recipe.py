"""benchmarks/demo_throughput.py times `make demo`'s recipe: its RECIPE must be the Makefile's
demo line, flag for flag (read from both files, nothing run or timed)."""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

from nn.vision.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def _benchmark_recipe() -> dict[str, object]:
    tree = ast.parse((ROOT / "benchmarks" / "demo_throughput.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "RECIPE":
            return ast.literal_eval(node.value)
    raise AssertionError("benchmarks/demo_throughput.py defines no RECIPE")


def _makefile_demo() -> dict[str, object]:
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    line = re.search(r"^demo:.*\n\t(.*)$", text, re.M).group(1)
    argv = shlex.split(line)
    argv = argv[argv.index("nn.vision") + 1:]
    return vars(build_parser().parse_args(argv))


def test_demo_throughput_times_the_makefile_recipe() -> None:
    recipe, demo = _benchmark_recipe(), _makefile_demo()
    assert {k: demo[k] for k in recipe} == recipe
    given = {"model", "data", "epochs", "batch_size", "optimizer", "lr", "weight_decay",
             "dropout", "schedule", "augment"}  # every flag the demo line sets but --out
    assert given <= set(recipe)
