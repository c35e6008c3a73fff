"""`evaluate` and `predict` test on the checkpoint's run's own test split by default: its
dataset and its seed. They took `--data mnist-5k --seed 0` whatever the run was: a LeNet-5
trained on digits with seed 3 was evaluated on MNIST without a word, and with `--data digits`
on a split whose "test" images were mostly its training images."""

import numpy as np
import pytest

from nn.vision import build, cli


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    metrics = cli.main(["train", "--model", "lenet5", "--data", "digits", "--seed", "3",
                        "--epochs", "1", "--limit", "120", "--out", str(out), "--no-progress"])
    return out, metrics


@pytest.mark.parametrize("checkpoint", ["best.npz", "best.safetensors"])
def test_evaluate_takes_the_runs_dataset_and_seed(run, capsys, checkpoint):
    out, metrics = run
    result = cli.main(["evaluate", str(out / checkpoint), "--limit", "120"])
    assert result["test_accuracy"] == metrics["test_accuracy"]
    captured = capsys.readouterr()
    assert "on 120 digits images" in captured.out and "note:" not in captured.err


def test_another_seed_is_said_to_draw_another_split(run, capsys):
    out, _ = run
    cli.main(["evaluate", str(out / "best.npz"), "--seed", "0", "--limit", "120"])
    assert ("note: the run split digits with seed 3; seed 0 draws another test split, which may "
            "hold images the model trained on") in capsys.readouterr().err
    seen = {x.tobytes() for x in build.load_data("digits", 3).x_train}
    other_test = build.load_data("digits", 0).x_test
    assert np.mean([x.tobytes() in seen for x in other_test]) > 0.5  # why it is said


def test_predict_takes_the_runs_dataset_and_seed(run, capsys):
    out, _ = run
    cli.main(["predict", str(out / "best.npz"), "--count", "2"])
    labels = build.load_data("digits", 3).y_test[:2]
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"test[{i}] (label {y})"
                                                      for i, y in enumerate(labels)]
