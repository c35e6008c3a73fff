"""The op registry keeps every way to reach an op in step: ad.<name>, the NumPy protocols, the
Tensor method, and a row in the op table."""

import functools
import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
from autodiff.ops import registry

OP_MODULES = ["activation", "arith", "decompositions", "elementwise", "indexing", "linalg",
              "linalg_composites", "norms", "reduce", "shape"]
# Modules outside autodiff.ops that register some of their functions (creation from a tensor,
# np.zeros_like(t) -> ad.zeros_like): those must be in the module's __all__.
OTHER_OP_MODULES = ["autodiff.creation"]
# Ops the op table cannot differentiate, with the reason.
NOT_IN_THE_TABLE = {"positive": "returns its input itself: nothing is recorded",
                    "real": "of a real tensor: the tensor itself", "conj": "the same"}


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
        for op in module.__all__:
            keys = [k for k, e in registry.OPS.items() if e.fn is getattr(module, op)]
            assert keys, f"autodiff.ops.{name}.{op} is in __all__ but not registered"
            assert registry.OPS[keys[0]].fn.__module__ == module.__name__
            exported |= set(keys)
    for name in OTHER_OP_MODULES:
        module = importlib.import_module(name)
        ops = {op for op, entry in registry.OPS.items() if entry.fn.__module__ == name}
        assert ops <= set(module.__all__), f"{name}: registered but missing from __all__: " \
            f"{sorted(ops - set(module.__all__))}"
        exported |= ops
    assert exported == set(registry.OPS), "registered but missing from its module's __all__: " \
        f"{sorted(set(registry.OPS) - exported)}"
    for op, entry in registry.OPS.items():
        # ad.<op>, or for an op of a namespace ad.<namespace>.<name> (and not ad.<name>)
        home = functools.reduce(getattr, entry.namespace.split("."), ad) if entry.namespace \
            else ad
        name = op.rpartition(".")[2]
        assert op == (f"{entry.namespace}.{name}" if entry.namespace else name)
        assert getattr(home, name) is entry.fn and name in home.__all__
        if entry.namespace:
            assert getattr(ad, name, None) is not entry.fn, f"ad.{name} is {op}"


def test_every_op_has_a_row_in_the_op_table():
    rows = _table_names()
    missing = [op for op, entry in registry.OPS.items() if entry.differentiable
               and op not in NOT_IN_THE_TABLE
               and op not in rows and not any(r.startswith(op + "_") for r in rows)]
    assert not missing, f"ops without a row in tests/autodiff/test_ops.py: {missing}"


def test_every_registered_method_is_the_tensors():
    for name, fn in registry.METHODS.items():
        assert getattr(ad.Tensor, name) is fn, name


# The arguments NumPy's shape, joining and creation functions need to dispatch (issue 14).
SHAPE_ARGS = {
    np.vstack: lambda x: ([x, x],), np.hstack: lambda x: ([x, x],),
    np.dstack: lambda x: ([x, x],), np.column_stack: lambda x: ([x, x],),
    np.full_like: lambda x: (x, 1), np.linspace: lambda x: (x, 1), np.logspace: lambda x: (x, 1),
    np.geomspace: lambda x: (x, 1), np.take: lambda x: (x, 1), np.repeat: lambda x: (x, 2),
    np.tile: lambda x: (x, 2), np.roll: lambda x: (x, 1), np.moveaxis: lambda x: (x, 0, 1),
    np.rollaxis: lambda x: (x, 1), np.array_split: lambda x: (x, 2),
    np.take_along_axis: lambda x: (x, np.zeros((2, 2), int), 1),
}


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
    elif func in (np.quantile, np.percentile, np.nanquantile, np.nanpercentile):
        args = (x, 0.5)
    elif func in (np.dot, np.vdot, np.inner, np.outer, np.kron, np.tensordot, np.linalg.solve,
                  np.linalg.lstsq, np.linalg.matmul, np.linalg.outer, np.linalg.tensordot,
                  np.linalg.vecdot, np.cross, np.linalg.cross, np.linalg.tensorsolve):
        args = (x, x)
    elif func in SHAPE_ARGS:
        args = SHAPE_ARGS[func](x)
    elif func in (np.einsum,):
        args = ("ij,jk", x, x)
    elif func in (np.linalg.matrix_power,):
        args = (x, 2)
    elif func.__name__ == "astype":
        args = (x, np.float64)
    result = func(*args)
    assert seen and isinstance(result, ad.Tensor)


def test_an_op_of_a_namespace_is_keyed_by_its_qualified_name():
    def twice_for_test(x):
        return x * 2

    try:
        registry.register(namespace="testns")(twice_for_test)
        entry = registry.OPS["testns.twice_for_test"]
        assert entry.fn is twice_for_test and entry.namespace == "testns"
        assert "twice_for_test" not in registry.OPS  # not ad.twice_for_test
    finally:
        del registry.OPS["testns.twice_for_test"]


def test_registering_a_name_twice_is_refused():
    with pytest.raises(ValueError, match="NumPy 'sum' is registered twice"):
        registry.register(np.sum, public=False)(lambda x: x)
    with pytest.raises(ValueError, match="method 'sum' is registered twice"):
        registry.register_method("sum", lambda x: x)


def test_an_op_module_run_a_second_time_replaces_its_own_entries():
    """pytest imports `autodiff/ops/norms.py` by path for its doctests, running the module again
    after `import autodiff` ran it once: its registrations replace themselves. Another function
    under the same name is still refused (above)."""
    import importlib.util

    import autodiff.ops.norms as norms

    saved = ({**registry.OPS}, {**registry.NUMPY_FUNCTIONS}, {**registry.METHODS})
    spec = importlib.util.spec_from_file_location("autodiff.ops.norms", norms.__file__)
    again = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(again)
        assert registry.OPS["linalg.norm"].fn is again.norm is not norms.norm
        assert registry.NUMPY_FUNCTIONS[np.linalg.norm] is again.norm
    finally:
        for table, old in zip((registry.OPS, registry.NUMPY_FUNCTIONS, registry.METHODS), saved,
                              strict=True):
            table.clear()
            table.update(old)
    assert registry.NUMPY_FUNCTIONS[np.linalg.norm] is norms.norm


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
