"""--overwrite replaces the previous run's outputs when the new run saves its first results:
a run failing before then (here: an exception at its second step) leaves the previous run as
it was. They were removed before training began, so such a failure lost both. (That a run
which gets as far as saving replaces them all: test_runs.py.)"""

import pytest

import nn
from nn.vision import cli

FLAGS = ["--model", "mlp", "--data", "digits", "--limit", "60", "--epochs", "1",
         "--batch-size", "16", "--no-progress"]


def test_a_run_failing_in_its_first_epoch_leaves_the_previous_run(tmp_path, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    for name in ("best.npz", "best.safetensors", "last.npz", "metrics.json", "curves.png"):
        (out / name).write_bytes(f"the previous run's {name}".encode())
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    real, taken = nn.optim.Optimizer.step, [0]

    def step_then_fail(self):
        real(self)
        taken[0] += 1
        if taken[0] == 2:
            raise RuntimeError("the GPU fell off")

    monkeypatch.setattr(nn.optim.Optimizer, "step", step_then_fail)
    with pytest.raises(RuntimeError, match="fell off"):
        cli.main(["train", *FLAGS, "--out", str(out), "--overwrite"])
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
