"""A run without validation images (val_fraction 0, or too few images for one): its
validation accuracies are None, not the training accuracy under the name "val" (metrics.json
and the epoch line said "val 97%" of images the model trained on, and the best epoch was
picked by training accuracy), and the last epoch is the best. A search's pruner, which needs a
validation accuracy, is refused before anything is written."""

import json

import pytest

import nn
from nn.vision.train import train, train_args

SMALL = {"model": "mlp", "data": "digits", "limit": 40, "epochs": 2, "batch_size": 16,
         "lr": 0.05, "no_progress": True}


def test_no_validation_image_records_none_and_keeps_the_last_epoch(tmp_path, capsys):
    metrics = train(train_args(**SMALL, val_fraction=0.0, out=str(tmp_path)))
    assert metrics["history"]["val_accuracy"] == [None, None]
    assert all(0 <= a <= 1 for a in metrics["history"]["train_accuracy"])
    assert metrics["best_val_accuracy"] is None and metrics["best_epoch"] == 2
    assert json.loads((tmp_path / "metrics.json").read_text())["best_val_accuracy"] is None
    assert nn.load(tmp_path / "best.npz")["epoch"] == 2
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("epoch")]
    assert len(lines) == 2 and all("  val -  " in x for x in lines)


def test_a_pruner_without_validation_images_is_refused_before_writing(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=r"train: on_epoch needs a validation accuracy, but "
                                         r"val_fraction 0.05 of 10 training images holds out "
                                         r"none"):
        train(train_args(**{**SMALL, "limit": 10}, val_fraction=0.05, out=str(out)),
              on_epoch=lambda epoch, accuracy: None)
    assert not out.exists()
