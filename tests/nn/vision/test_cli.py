"""Every flag is checked when the command line is read, before any data loads: exit status 2
and one line naming the flag, what is allowed and what was given."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nn.vision import cli, datasets, models

ROOT = Path(__file__).resolve().parents[3]
PREFIX = "python -m nn.vision"


@pytest.fixture
def no_data(monkeypatch):
    """Loading any dataset fails the test: a refusal must come first."""
    def load(*args, **kwargs):
        raise AssertionError("data loaded before the command line was checked")

    monkeypatch.setattr(datasets, "load", load)


@pytest.fixture
def files(tmp_path):
    """A file (a checkpoint, an --out in the way), a finished run, a sweep's folder."""
    (tmp_path / "file").write_text("x")
    run = tmp_path / "run"
    run.mkdir()
    (run / "best.npz").write_bytes(b"an earlier run's 81.6%")
    (run / "metrics.json").write_text("{}")
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "sweep.csv").write_text("lr\n")
    (tmp_path / "empty").mkdir()
    return tmp_path


CASES = [  # (command line, {placeholders}), the error after "<prog> <command>: error: "
    # the list
    ("train --lr nan", "argument --lr: must be a finite number > 0, got nan"),
    ("train --lr inf", "argument --lr: must be a finite number > 0, got inf"),
    ("train --momentum nan", "argument --momentum: must be a number in [0, 1), got nan"),
    ("train --weight-decay nan",
     "argument --weight-decay: must be a finite number >= 0, got nan"),
    ("train --val-fraction 1.0", "argument --val-fraction: must be a number in [0, 1), got 1.0"),
    ("train --val-fraction 1.5", "argument --val-fraction: must be a number in [0, 1), got 1.5"),
    ("train --val-fraction -0.5",
     "argument --val-fraction: must be a number in [0, 1), got -0.5"),
    ("train --limit -5", "argument --limit: must be an integer >= 0, got -5"),
    ("train --depth -2", "argument --depth: must be an integer >= 0, got -2"),
    ("predict {file} --top-k 0", "argument --top-k: must be an integer >= 1, got 0"),
    ("predict {file} --top-k -1", "argument --top-k: must be an integer >= 1, got -1"),
    ("predict {file} --count -1", "argument --count: must be an integer >= 1, got -1"),
    ("train --epochs 0", "argument --epochs: must be an integer >= 1, got 0"),
    ("train --seed -1", "argument --seed: must be an integer >= 0, got -1"),
    ("sweep --random -1", "argument --random: must be an integer >= 0, got -1"),
    ("train --out {file}", "argument --out: {file} is a file, not a folder"),
    # and their neighbours
    ("train --lr 0", "argument --lr: must be a finite number > 0, got 0"),
    ("train --lr=-1e-3", "argument --lr: must be a finite number > 0, got -1e-3"),
    ("train --lr 1e400", "argument --lr: must be a finite number > 0, got 1e400"),
    ("train --lr fast", "argument --lr: must be a finite number > 0, got fast"),
    ("train --momentum 1", "argument --momentum: must be a number in [0, 1), got 1"),
    ("train --weight-decay=-inf",
     "argument --weight-decay: must be a finite number >= 0, got -inf"),
    ("train --dropout 1.0", "argument --dropout: must be a number in [0, 1), got 1.0"),
    ("train --batch-size 0", "argument --batch-size: must be an integer >= 1, got 0"),
    ("train --epochs 2.5", "argument --epochs: must be an integer >= 1, got 2.5"),
    ("train --width 0", "argument --width: must be an integer >= 1, got 0"),
    ("train --model vgg", "argument --model: unknown model 'vgg'; known: "
                          + ", ".join(models.MODELS)),
    ("train --data imagenet", "argument --data: unknown dataset 'imagenet'; known: digits, "
                              "mnist-5k, mnist, fashion-mnist, cifar10"),
    ("train --depth 2", "argument --depth: lenet5 has a fixed depth; --depth applies to "
                        "resnet8, resnet20, mobilenet, mlp"),
    ("train --model resnet18 --depth 2", "argument --depth: resnet18 has a fixed depth; --depth "
                                         "applies to resnet8, resnet20, mobilenet, mlp"),
    ("train --out {file}/run", "argument --out: cannot make a folder in {file}, which is a file"),
    ("train --out {run}", "--out {run} already holds results (best.npz, metrics.json): pass "
                          "--resume {run} to continue that run, --overwrite to replace it, or "
                          "another --out"),
    ("train --resume {empty}", "argument --resume: {empty} holds no last.npz: nothing to resume "
                               "(a run writes it at the end of each epoch and when it is "
                               "stopped)"),
    ("train --resume {tmp}/nowhere", "argument --resume: no such run folder: {tmp}/nowhere"),
    ("evaluate {tmp}/best.npz", "argument checkpoint: no such file: {tmp}/best.npz"),
    ("evaluate {empty}", "argument checkpoint: {empty} is a folder, not a file"),
    ("predict {file} {tmp}/digit.png", "argument images: no such file: {tmp}/digit.png"),
    ("sweep --lr 1e-3 nan", "argument --lr: must be a finite number > 0, got nan"),
    ("sweep --batch-sizes 32 0", "argument --batch-sizes/--batch-size: must be an integer >= 1, "
                                 "got 0"),
    ("sweep --momentum 0.9 1.5", "argument --momentum: must be a number in [0, 1), got 1.5"),
    ("sweep --epochs 0", "argument --epochs: must be an integer >= 1, got 0"),
    ("sweep --model vgg", "argument --model: unknown model 'vgg'; known: "
                          + ", ".join(models.MODELS)),
    ("sweep --depth 1", "argument --depth: lenet5 has a fixed depth; --depth applies to "
                        "resnet8, resnet20, mobilenet, mlp"),
    ("sweep --out {file}", "argument --out: {file} is a file, not a folder"),
]


def fill(text, tmp):
    return text.format(tmp=tmp, file=tmp / "file", run=tmp / "run", empty=tmp / "empty",
                       sweep=tmp / "sweep")


@pytest.mark.parametrize("argv, error", CASES, ids=[c[0] for c in CASES])
def test_a_bad_command_line_exits_2_with_one_line_before_any_data_loads(argv, error, files,
                                                                        no_data, capsys):
    before = {p: p.read_bytes() for p in files.rglob("*") if p.is_file()}
    with pytest.raises(SystemExit) as e:
        cli.main(fill(argv, files).split())
    assert e.value.code == 2
    assert error_line(capsys.readouterr().err) == (f"{PREFIX} {argv.split()[0]}: error: "
                                                   f"{fill(error, files)}")
    assert {p: p.read_bytes() for p in files.rglob("*") if p.is_file()} == before


def test_the_real_command_exits_2_without_a_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "nn.vision", "train", "--lr", "nan"],
                       capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 2 and r.stdout == ""
    assert error_line(r.stderr) == (f"{PREFIX} train: error: argument --lr: must be a finite "
                                    "number > 0, got nan")


def error_line(stderr):
    """The one line after argparse's usage (its first line "usage: ", the others indented)."""
    lines = stderr.splitlines()
    assert lines[0].startswith("usage: ") and "Traceback" not in stderr
    assert all(line.startswith(" ") for line in lines[1:-1]), stderr
    return lines[-1]


def test_good_values_at_the_edges_are_accepted():
    line = ("train --lr 1e-9 --momentum 0 --weight-decay 0 --dropout 0.999 --val-fraction 0 "
            "--limit 0 --depth 0 --seed 0 --epochs 1 --width 1 --batch-size 1")
    args = cli.build_parser().parse_args(line.split())
    assert (args.lr, args.momentum, args.dropout, args.val_fraction, args.depth) == (
        1e-9, 0.0, 0.999, 0.0, 0)
