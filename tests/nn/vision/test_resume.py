"""No run is lost: SIGINT/SIGTERM stop after the step under way and save; `--resume` then ends
bit-identical to the run never stopped; `kill -9` loses at most the epoch under way; handlers
come back; tqdm is optional.

The interrupt arrives from a test hook: Optimizer.step is wrapped to send the signal to this
process (os.kill, a real signal through the real handler) right after step k."""

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nn
from nn.vision import cli

ROOT = Path(__file__).resolve().parents[3]
FLAGS = ["--model", "mlp", "--data", "digits", "--limit", "200", "--epochs", "2",
         "--batch-size", "32", "--optimizer", "adamw", "--lr", "0.01", "--weight-decay", "0.01",
         "--dropout", "0.2", "--augment", "--schedule", "warmup-cosine", "--no-progress"]
STEPS = 6  # per epoch: 180 training images (200 less 10% for validation) in batches of 32
# A new step each run; the same in every pytest-xdist worker of one run (they must collect the
# same tests), since they share the run's id.
RANDOM_STEP = random.Random(os.environ.get("PYTEST_XDIST_TESTRUNUID")).randrange(1, 2 * STEPS + 1)


def train(*flags):
    return cli.main(["train", *FLAGS, *flags])


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The run never stopped."""
    out = tmp_path_factory.mktemp("straight")
    train("--out", str(out))
    return out


def interrupt_after_step(monkeypatch, k, signum=signal.SIGINT):
    real = nn.optim.Optimizer.step
    taken = [0]

    def step(self):
        real(self)
        taken[0] += 1
        if taken[0] == k:
            os.kill(os.getpid(), signum)

    monkeypatch.setattr(nn.optim.Optimizer, "step", step)


def assert_same_run(a, b):
    """Every array of both checkpoints equal bit for bit; metrics equal but for seconds."""
    for name in ("best.npz", "best.safetensors", "last.npz"):
        assert_same_tree(nn.load(a / name), nn.load(b / name), name)
    assert nn.load_metadata(a / "best.safetensors") == nn.load_metadata(b / "best.safetensors")
    ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (a, b))
    for m in (ma, mb):
        del m["history"]["seconds"], m["seconds_per_epoch"], m["run_dir"]
    assert ma == mb


def assert_same_tree(x, y, where):
    if isinstance(x, dict):
        assert x.keys() == y.keys(), where
        for k in x:
            if k != "seconds":
                assert_same_tree(x[k], y[k], f"{where}/{k}")
    elif isinstance(x, list | tuple):
        assert len(x) == len(y), where
        for i, (u, v) in enumerate(zip(x, y)):
            assert_same_tree(u, v, f"{where}/{i}")
    elif isinstance(x, np.ndarray):
        assert x.dtype == y.dtype and np.array_equal(x, y), where
    else:
        assert x == y, where


@pytest.mark.parametrize("k, signum", [
    (1, signal.SIGINT), (STEPS, signal.SIGTERM), (STEPS + 1, signal.SIGINT),
    (2 * STEPS, signal.SIGINT), (RANDOM_STEP, signal.SIGINT)],
    ids=["first-step", "last-step-of-epoch-1-sigterm", "first-step-of-epoch-2",
         "very-last-step", f"random-step-{RANDOM_STEP}"])
def test_a_run_stopped_at_step_k_and_resumed_is_bit_identical(reference, tmp_path, monkeypatch,
                                                               capsys, k, signum):
    out = tmp_path / "run"
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    interrupt_after_step(monkeypatch, k, signum)
    with pytest.raises(SystemExit) as stop:
        train("--out", str(out))
    assert stop.value.code == 128 + signum
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    err = capsys.readouterr().err
    assert f"stopped at epoch {(k - 1) // STEPS + 1}/2, step {(k - 1) % STEPS + 1}/{STEPS}" in err
    assert f"resume with: python -m nn.vision train --resume {out}" in err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["status"] == "interrupted" and metrics["epochs_done"] == (k - 1) // STEPS
    assert len(metrics["history"]["train_loss"]) == (k - 1) // STEPS
    assert (out / "curves.png").stat().st_size > 0 and (out / "last.npz").exists()
    monkeypatch.undo()
    cli.main(["train", "--resume", str(out), "--no-progress"])
    assert_same_run(reference, out)


def test_resume_refuses_other_flags_and_an_out(reference, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--resume", str(reference), "--lr", "0.1", "--epochs", "2"])
    assert e.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "python -m nn.vision train: error: --resume continues the run as it was configured; "
        "these flags differ: --lr 0.1 (the run has 0.01)")
    with pytest.raises(SystemExit):
        cli.main(["train", "--resume", str(reference), "--out", str(reference)])
    assert "give no --out or --overwrite" in capsys.readouterr().err


def test_resume_of_a_finished_run_writes_its_outputs_again(reference, tmp_path, capsys):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(reference, copy)
    (copy / "metrics.json").unlink()  # killed after the last epoch, before the report
    cli.main(["train", "--resume", str(copy), "--no-progress"])
    assert_same_run(reference, copy)
    assert "epoch" not in capsys.readouterr().out.split("test accuracy")[0]  # no epoch trained


def test_handlers_are_restored_and_a_second_signal_stops_at_once(tmp_path, monkeypatch):
    def mine(signum, frame):
        pass

    old = signal.signal(signal.SIGTERM, mine)
    try:
        train("--out", str(tmp_path / "a"))
        assert signal.getsignal(signal.SIGTERM) is mine
        real = nn.optim.Optimizer.step

        def twice(self):
            real(self)
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)

        monkeypatch.setattr(nn.optim.Optimizer, "step", twice)
        with pytest.raises(SystemExit) as e:
            train("--out", str(tmp_path / "b"))
        assert e.value.code == 130 and not (tmp_path / "b" / "last.npz").exists()
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, old)


def test_outside_the_main_thread_signals_are_left_alone():
    import threading

    from nn.vision import runs

    seen = []

    def enter():
        with runs.StopSignals():
            seen.append(signal.getsignal(signal.SIGINT))

    before = signal.getsignal(signal.SIGINT)
    thread = threading.Thread(target=enter)
    thread.start()
    thread.join()
    assert seen == [before]


def test_one_stop_signals_object_entered_again_or_from_another_thread_restores_handlers():
    # The handlers before were one dict on the object: an inner block saved the object's own
    # handler over the outer's, and a block in another thread (which installs nothing) put
    # the main thread's back while its block was open (main: the handlers stayed installed
    # for good after the nested blocks; SIGINT was the default again inside the main block).
    import os
    import threading

    from nn.vision import runs

    before = [signal.getsignal(s) for s in runs.StopSignals.SIGNALS]
    stop = runs.StopSignals(quiet=True)
    with stop:
        with stop:
            pass
        assert signal.getsignal(signal.SIGTERM) == stop._handle
    assert [signal.getsignal(s) for s in runs.StopSignals.SIGNALS] == before

    def other() -> None:
        with stop:
            pass

    with stop:
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert signal.getsignal(signal.SIGINT) == stop._handle
        os.kill(os.getpid(), signal.SIGTERM)  # asks to stop
        with pytest.raises(KeyboardInterrupt), stop:
            os.kill(os.getpid(), signal.SIGTERM)  # a second signal: at once
    assert stop.requested
    assert [signal.getsignal(s) for s in runs.StopSignals.SIGNALS] == before
    assert stop._previous == {}


# -- the real command in a subprocess -----------------------------------------------------------

SLOW_FLAGS = [*FLAGS[:7], "8", *FLAGS[8:]]  # 8 epochs: the signal comes long before the end


@pytest.fixture(scope="module")
def straight_8_epochs(tmp_path_factory):
    out = tmp_path_factory.mktemp("straight8")
    cli.main(["train", *SLOW_FLAGS, "--out", str(out)])
    return out


def command(*args):
    return subprocess.Popen([sys.executable, "-m", "nn.vision", "train", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                          (signal.SIGKILL, -9)],
                         ids=["SIGINT", "SIGTERM", "kill-9"])
@pytest.mark.slow
def test_the_command_stopped_by_a_signal_resumes_bit_identical(straight_8_epochs, tmp_path,
                                                               signum, code):
    """The signal comes at whatever step the child has reached after its first epoch line (an
    epoch line is printed once the epoch is in last.npz); kill -9 after the second, and it
    saves nothing: the resume starts from the end-of-epoch last.npz. The run and its exit
    status are the real command's; the resume, identical in a process of its own, runs here."""
    stopped = tmp_path / "stopped"
    child = command(*SLOW_FLAGS, "--out", str(stopped))
    lines = 2 if signum == signal.SIGKILL else 1
    for _ in range(lines):
        assert child.stdout.readline().startswith("epoch ")
    child.send_signal(signum)
    _, err = child.communicate(timeout=60)
    assert child.returncode == code, err
    assert "Traceback" not in err
    if signum != signal.SIGKILL:
        assert f"resume with: python -m nn.vision train --resume {stopped}" in err
    assert nn.load(stopped / "last.npz")["progress"]["epoch"] >= lines
    cli.main(["train", "--resume", str(stopped), "--no-progress"])  # (in-process: faster)
    assert_same_run(straight_8_epochs, stopped)
    assert not list(stopped.glob(".*"))  # no temporary left behind


# -- tqdm is optional ---------------------------------------------------------------------------


@pytest.mark.parametrize("progress", [[], ["--no-progress"]], ids=["bar-wanted", "no-progress"])
def test_without_tqdm_the_command_prints_one_line_per_epoch(tmp_path, monkeypatch, capsys,
                                                            progress):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    flags = [f for f in FLAGS if f != "--no-progress"]
    cli.main(["train", *flags, *progress, "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert [line[:9] for line in captured.out.splitlines()[:2]] == ["epoch   1", "epoch   2"]
    assert ("tqdm is not installed" in captured.err) == (not progress)


def test_train_itself_refuses_to_resume_with_another_config(reference):
    from nn.vision import train as loop

    before = (reference / "last.npz").read_bytes()
    args = loop.train_args(**{k: v for k, v in nn.load(reference / "last.npz")["config"].items()})
    args.lr, args.resume = 0.5, str(reference)
    with pytest.raises(ValueError, match=r"the config differs from the run's \(given, saved\): "
                                         r"\{'lr': \(0.5, 0.01\)\}"):
        loop.train(args)
    assert (reference / "last.npz").read_bytes() == before


def test_resume_refuses_a_last_npz_that_is_not_a_runs(tmp_path, capsys):
    (tmp_path / "last.npz").write_bytes(b"not a checkpoint")
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--resume", str(tmp_path)])
    assert e.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(
        f"python -m nn.vision train: error: argument --resume: {tmp_path}/last.npz is not a "
        "run's checkpoint (load: ")
