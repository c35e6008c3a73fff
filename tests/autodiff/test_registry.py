"""The op registry keeps every way to reach an op in step: ad.<name>, the NumPy protocols, the
Tensor method, and a row in the op table."""

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
from autodiff.ops import registry

OP_MODULES = ["activation", "arith", "elementwise", "indexing", "linalg", "reduce", "shape"]
# Ops the op table cannot differentiate, with the reason.
NOT_IN_THE_TABLE = {"positive": "returns its input itself: nothing is recorded"}


def _table_names() -> set[str]:
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        return {case.name for case in importlib.import_module("test_ops").CASES}
    finally:
        sys.path.pop(0)


def test_every_op_is_public_and_every_public_op_is_registered():
    exported = set()
    for name in OP_MODULES:
        module = importlib.import_module(f"autodiff.ops.{name}")
        exported |= set(module.__all__)
        for op in module.__all__:
            assert op in registry.OPS, f"autodiff.ops.{name}.{op} is in __all__ but not registered"
            assert registry.OPS[op].fn.__module__ == module.__name__
    assert exported == set(registry.OPS), "registered but missing from its module's __all__: " \
        f"{sorted(set(registry.OPS) - exported)}"
    for op, entry in registry.OPS.items():
        assert getattr(ad, op) is entry.fn and op in ad.__all__


def test_every_op_has_a_row_in_the_op_table():
    rows = _table_names()
    missing = [op for op, entry in registry.OPS.items() if entry.differentiable
               and op not in NOT_IN_THE_TABLE
               and op not in rows and not any(r.startswith(op + "_") for r in rows)]
    assert not missing, f"ops without a row in tests/autodiff/test_ops.py: {missing}"


def test_every_registered_method_is_the_tensors():
    for name, fn in registry.METHODS.items():
        assert getattr(ad.Tensor, name) is fn, name


@pytest.mark.parametrize("func", sorted(registry.NUMPY_UFUNCS, key=lambda f: f.__name__)
                         + sorted(registry.NUMPY_FUNCTIONS, key=lambda f: f.__name__),
                         ids=lambda f: f.__name__)
def test_every_numpy_name_reaches_its_op(func, monkeypatch):
    table = registry.NUMPY_UFUNCS if isinstance(func, np.ufunc) else registry.NUMPY_FUNCTIONS
    seen = []

    def spy(*args, **kwargs):
        seen.append(True)
        return ad.tensor(0.0)

    monkeypatch.setitem(table, func, spy)
    x = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    args = {1: (x,), 2: (x, x)}.get(getattr(func, "nin", 1), (x,))
    if func in (np.concatenate, np.stack):
        args = ([x, x],)
    elif func in (np.where,):
        args = (x.data > 2, x, x)
    elif func in (np.reshape, np.broadcast_to):
        args = (x, (4,))
    elif func in (np.swapaxes,):
        args = (x, 0, 1)
    elif func in (np.expand_dims, np.split, np.pad):
        args = (x, 1)
    elif func in (np.clip,):
        args = (x, 0, 1)
    elif func in (np.quantile, np.percentile):
        args = (x, 0.5)
    elif func in (np.dot,):
        args = (x, x)
    elif func.__name__ == "astype":
        args = (x, np.float64)
    result = func(*args)
    assert seen and isinstance(result, ad.Tensor)


def test_registering_a_name_twice_is_refused():
    with pytest.raises(ValueError, match="NumPy 'sum' is registered twice"):
        registry.register(np.sum, public=False)(lambda x: x)
    with pytest.raises(ValueError, match="method 'sum' is registered twice"):
        registry.register_method("sum", lambda x: x)


def test_a_method_registered_later_is_installed_but_never_replaces_the_tensors_own():
    def double(x):
        return x * 2

    try:
        registry.register(method="twice_for_test", public=False)(double)
        assert ad.tensor([1.0]).twice_for_test().tolist() == [2.0]
    finally:
        del registry.METHODS["twice_for_test"]
        delattr(ad.Tensor, "twice_for_test")
    with pytest.raises(ValueError, match="Tensor already has its own 'item'"):
        registry.register_method("item", double)
    assert "item" not in registry.METHODS
