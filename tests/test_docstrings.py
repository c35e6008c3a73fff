"""Every public function and class has a docstring with a runnable example (pytest runs the
examples as doctests). Public: what the packages export (their `__all__`), the names the API
reference pages show."""

import importlib
import inspect

import pytest

PUBLIC = ["autodiff", "autodiff.testing", "autodiff.viz", "nn", "nn.functional", "nn.optim",
          "nn.init", "nn.data", "nn.onnx", "nn.vision.datasets", "nn.vision.transforms",
          "nn.vision.models", "nn.vision.runs", "nn.vision.cli", "nn.vision.train",
          "nn.vision.build", "nn.vision.inference", "nn.vision.plots", "autodiff.linalg"]
PUBLIC += ["nn.utils", "nn.utils.rnn"]
PUBLIC += ["autodiff.checkpoint", "nn.utils.checkpoint", "nn.utils.parametrize",
           "nn.utils.parametrizations", "nn.utils.convert_parameters"]


def public_objects():
    seen = set()
    for name in PUBLIC:
        module = importlib.import_module(name)
        names = getattr(module, "__all__", None) or [
            n for n, v in vars(module).items()
            if not n.startswith("_") and getattr(v, "__module__", "") == name]
        for n in names:
            obj = getattr(module, n)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and id(obj) not in seen:
                seen.add(id(obj))
                yield f"{name}.{n}", obj


def test_the_public_api_is_large_enough_to_mean_something():
    assert len(list(public_objects())) > 150


@pytest.mark.parametrize("qualname,obj", list(public_objects()),
                         ids=[q for q, _ in public_objects()])
def test_has_a_runnable_example(qualname, obj):
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{qualname} has no docstring"
    assert ">>>" in doc, f"{qualname}'s docstring has no example (a >>> doctest)"
