"""A run that crashes keeps its previous checkpoint, and --resume then ends bit-identical to the
run that never stopped: an exception raised inside an epoch (no signal: nothing is saved, the
end-of-epoch last.npz stays), and Ctrl-C in the middle of writing last.npz (the previous one
stays whole, no temporary is left behind). test_resume.py covers signals and kill -9."""

import pytest

import nn
import nn.serialization
from nn.vision import cli

from .test_resume import FLAGS, STEPS, assert_same_run


def train(*flags):
    return cli.main(["train", *FLAGS, *flags])


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    out = tmp_path_factory.mktemp("straight")
    train("--out", str(out))
    return out


def test_an_exception_inside_an_epoch_keeps_the_last_epoch_and_resumes(straight, tmp_path,
                                                                        monkeypatch):
    out = tmp_path / "run"
    real, taken = nn.optim.Optimizer.step, [0]

    def step(self):
        real(self)
        taken[0] += 1
        if taken[0] == STEPS + 2:  # in the second epoch
            raise RuntimeError("a bug in the user's model")

    monkeypatch.setattr(nn.optim.Optimizer, "step", step)
    with pytest.raises(RuntimeError, match="a bug in the user's model"):
        train("--out", str(out))
    monkeypatch.undo()
    assert nn.load(out / "last.npz")["progress"]["epoch"] == 1
    assert not list(out.glob(".*"))
    cli.main(["train", "--resume", str(out), "--no-progress"])
    assert_same_run(straight, out)


def test_ctrl_c_while_last_npz_is_written_keeps_the_previous_one(straight, tmp_path,
                                                                  monkeypatch):
    out = tmp_path / "run"
    real, writes = nn.serialization._write_atomically, []

    def write_atomically(target, write, suffix):
        if target.endswith("last.npz"):
            writes.append(target)
            if len(writes) == 2:  # the end of the second epoch: half a file, then Ctrl-C

                def half(f):
                    f.write(b"PK\x03\x04 half of a zip")
                    raise KeyboardInterrupt

                return real(target, half, suffix)
        return real(target, write, suffix)

    monkeypatch.setattr(nn.serialization, "_write_atomically", write_atomically)
    with pytest.raises(SystemExit) as stop:
        train("--out", str(out))
    assert stop.value.code == 130
    monkeypatch.undo()
    assert nn.load(out / "last.npz")["progress"]["epoch"] == 1
    assert not list(out.glob(".*"))
    cli.main(["train", "--resume", str(out), "--no-progress"])
    assert_same_run(straight, out)
