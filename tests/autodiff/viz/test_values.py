"""NaN/inf highlighting is truthful: every value the graph still holds is checked (tensors,
saved inputs and outputs), and a value it does not hold is drawn as unknown, never finite."""

import re

import numpy as np

import autodiff as ad
from autodiff import viz
from autodiff.viz.dot import UNSEEN_NOTE

NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)", ([^\]]*)\];', re.M)


def boxes(text):
    """label -> style of each box."""
    return {label: style for _, label, style in NODE.findall(text) if "shape=box" in style}


def status(text, label):
    style = boxes(text)[label]
    return "bad" if "#fca5a5" in style else "unknown" if "dotted" in style else "finite"


def test_an_intermediate_nobody_holds_is_checked_through_what_its_consumer_saved():
    x = ad.tensor([-1.0, 2.0], requires_grad=True, name="x")
    w = ad.tensor([1.0, 1.0], requires_grad=True, name="w")
    with np.errstate(invalid="ignore"):
        loss = (ad.log(x) * w)[1:].sum()  # log(-1) = nan; mul saved log's output
    text = viz.to_dot(loss)
    assert status(text, "(2,) float32\\nNaN/inf!") == "bad"
    assert status(text, "x\\n(2,) float32") == "finite"


def test_a_saved_output_is_checked():
    x = ad.tensor([1.0, 1000.0], requires_grad=True, name="x")
    with np.errstate(over="ignore"):
        loss = (ad.exp(x) + 1.0)[:1].sum()  # exp saved its output, inf; add saves nothing
    text = viz.to_dot(loss)
    assert status(text, "(2,) float32\\nNaN/inf!") == "bad"


def test_a_value_the_graph_does_not_hold_is_unknown_and_said_so():
    x = ad.tensor([1.0, 2.0], requires_grad=True, name="x")
    loss = ((x + 1.0) + 1.0).sum()  # the first sum's result: made by add, used by add
    text = viz.to_dot(loss)
    unknown = [label for label in boxes(text) if status(text, label) == "unknown"]
    assert unknown == ["(2,) float32"]
    assert UNSEEN_NOTE in text
    assert "value not kept" in viz.to_dot(loss, show_values=True)
    assert UNSEEN_NOTE not in viz.to_dot(x * 2.0)  # everything seen: no note


def test_after_backward_the_freed_values_become_unknown():
    x = ad.tensor([-1.0, 2.0], requires_grad=True, name="x")
    w = ad.tensor([1.0, 1.0], requires_grad=True, name="w")
    with np.errstate(invalid="ignore"):
        loss = (ad.log(x) * w)[1:].sum()
        loss.backward()
    text = viz.to_dot(loss)
    assert status(text, "(2,) float32") == "unknown"  # no longer claimed either way


def test_data_inputs_are_checked_when_held_and_unknown_otherwise():
    w = ad.tensor([1.0, 1.0], requires_grad=True, name="w")
    batch = ad.tensor([np.nan, 1.0], name="batch")
    text = viz.to_dot((w * batch).sum())  # mul saved the batch
    assert status(text, "batch\\n(2,) float32\\nNaN/inf!") == "bad"
    text = viz.to_dot((w + batch).sum())  # add saved nothing: only the metadata is left
    assert status(text, "batch\\n(2,) float32") == "unknown"


class _Take(ad.Function):
    """x[idx] for an integer index tensor (backward not needed here)."""

    @staticmethod
    def forward(ctx, x, idx):
        return x[idx]

    @staticmethod
    def backward(ctx, grad):  # pragma: no cover - not run
        raise NotImplementedError


def test_integer_tensors_cannot_hold_nan_so_they_are_never_unknown():
    x = ad.tensor([1.0, 2.0], requires_grad=True, name="x")
    idx = ad.tensor(np.array([1, 0]), name="idx")
    text = viz.to_dot(_Take.apply(x, idx))  # the node did not save idx
    assert status(text, "idx\\n(2,) int64") == "finite"


def test_a_red_box_is_still_a_box():
    x = ad.tensor([np.inf], requires_grad=True, name="x")
    assert "shape=box" in boxes(viz.to_dot(x * 2.0))["x\\n(1,) float32\\nNaN/inf!"]
