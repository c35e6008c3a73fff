"""A run started from Python is checked as the command line checks its flags: a val_fraction of
1.5 trained on no image and reported "finished", a negative limit dropped images from the end
of both splits, digits(test_fraction=-0.2) swapped the split (359 training images, 1,438 test
images). Each is now a ValueError naming the value, raised before anything is written."""

import math
import re

import pytest

from nn.vision import build, datasets
from nn.vision.train import train, train_args

SMALL = {"model": "mlp", "data": "digits", "limit": 20, "epochs": 1, "no_progress": True}

BAD = [("val_fraction", 1.5, "a number in [0, 1)"), ("val_fraction", -0.1, "a number in [0, 1)"),
       ("limit", -5, "an integer >= 0"), ("epochs", 0, "an integer >= 1"),
       ("epochs", 2.0, "an integer >= 1"), ("batch_size", 0, "an integer >= 1"),
       ("lr", 0.0, "a finite number > 0"), ("lr", math.nan, "a finite number > 0"),
       ("momentum", 1.0, "a number in [0, 1)"), ("weight_decay", -1e-3, "a finite number >= 0"),
       ("dropout", 1.0, "a number in [0, 1)"), ("width", 0, "None or an integer >= 1"),
       ("depth", -1, "None or an integer >= 0"), ("seed", -1, "an integer >= 0"),
       ("augment", "yes", "True or False"), ("model", "vgg", "one of lenet5"),
       ("data", "imagenet", "one of digits"), ("optimizer", "lion", "one of sgd"),
       ("schedule", "linear", "one of none")]


@pytest.mark.parametrize("key, value, what", BAD, ids=[f"{k}={v}" for k, v, _ in BAD])
def test_train_refuses_a_config_the_command_line_refuses_before_writing(tmp_path, key, value,
                                                                         what):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=rf"^train: {key} must be {re.escape(what)}.*, got "
                                         rf"{re.escape(repr(value))}$"):
        train(train_args(**{**SMALL, key: value}, out=str(out)))
    assert not out.exists()


@pytest.mark.parametrize("fraction", [-0.2, 1.0, 1.5, math.nan])
def test_digits_refuses_a_test_fraction_outside_0_1(fraction):
    with pytest.raises(ValueError, match=r"digits: test_fraction must be a number in \[0, 1\)"):
        datasets.digits(test_fraction=fraction)


@pytest.mark.parametrize("limit", [-5, 2.5, True])
def test_load_data_refuses_a_limit_that_is_not_a_count(limit):
    with pytest.raises(ValueError, match=r"load_data: limit must be an integer >= 0"):
        build.load_data("digits", seed=0, limit=limit)
