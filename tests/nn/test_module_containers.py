"""Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict with PyTorch's
semantics: slices, insert, extend, pop, del (numbered again from 0), +, negative indices and
the errors for an index out of range or a value of the wrong kind."""

import re

import numpy as np
import pytest

import nn


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def _kinds(container):
    return [type(m).__name__ for m in container]


def _edit_lists(lib):
    """The same edits on a Sequential and a ModuleList of `lib`; what each looks like after."""
    seen = []
    for cls in (lib.Sequential, lib.ModuleList):
        mods = [lib.Linear(1, 1), lib.ReLU(), lib.Tanh(), lib.Sigmoid()]
        c = cls(*mods) if cls is lib.Sequential else cls(mods)
        seen.append((type(c[1:]).__name__, list(c[1:3].state_dict()) if cls is lib.Sequential
                     else len(c[1:3]), type(c[-1]).__name__))
        del c[1]
        seen.append((_kinds(c), list(c._modules)))
        c.insert(1, lib.ELU())
        c.insert(3, lib.GELU())  # (PyTorch's ModuleList.insert fails on a negative index)
        seen.append((_kinds(c), list(c._modules)))
        c.extend([lib.Linear(1, 1)])
        c.append(lib.ReLU())
        popped = c.pop(0)
        seen.append((type(popped).__name__, _kinds(c), list(c.state_dict())))
        del c[::2]
        c[-1] = lib.Tanh()
        seen.append((_kinds(c), list(c._modules)))
    return seen


def test_list_edits_number_the_modules_again():
    seen = _edit_lists(nn)
    # was: a slice of a ModuleList was a Python list, a slice of a Sequential renamed its
    # modules 0, 1, ...; insert, extend, pop and del did not exist
    assert seen[0] == ("Sequential", [], "Sigmoid")  # c[1:3] holds ReLU, Tanh: no state
    assert seen[1] == (["Linear", "Tanh", "Sigmoid"], ["0", "1", "2"])
    assert seen[2] == (["Linear", "ELU", "Tanh", "GELU", "Sigmoid"], ["0", "1", "2", "3", "4"])
    assert seen[3] == ("Linear", ["ELU", "Tanh", "GELU", "Sigmoid", "Linear", "ReLU"],
                       ["4.weight", "4.bias"])
    assert seen[4] == (["Tanh", "Sigmoid", "Tanh"], ["0", "1", "2"])
    assert seen[5] == ("ModuleList", 2, "Sigmoid")
    assert seen[6:] == seen[1:5]
    seq = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    seq.insert(-1, nn.ELU())  # as list.insert
    assert _kinds(seq) == ["ReLU", "ELU", "Tanh"]


def test_list_edits_equal_pytorchs():
    torch = _torch()
    assert _edit_lists(nn) == _edit_lists(torch.nn)


def test_sequential_slice_keeps_names_as_pytorchs():
    seq = nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 1), nn.Linear(1, 1))
    assert list(seq[1:].state_dict()) == ["1.weight", "1.bias", "2.weight", "2.bias"]
    assert seq[1:][0] is seq[1]
    assert _kinds(seq + nn.Sequential(nn.ReLU())) == ["Linear", "Linear", "Linear", "ReLU"]


@pytest.mark.parametrize("cls", [nn.Sequential, nn.ModuleList])
def test_list_errors(cls):
    c = cls(nn.ReLU()) if cls is nn.Sequential else cls([nn.ReLU()])
    name = cls.__name__
    with pytest.raises(IndexError, match=f"{name}: index 1 is out of range for 1 modules"):
        c[1]
    with pytest.raises(IndexError, match="index -2 is out of range"):
        del c[-2]
    with pytest.raises(IndexError, match=f"{name}.insert: index 3 is out of range"):
        c.insert(3, nn.ReLU())
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        c.append(3)
    with pytest.raises(TypeError, match="indices must be integers or slices, got str"):
        c["0"]
    with pytest.raises(TypeError, match="should be called with an iterable"):
        c.extend(5)
    assert len(c) == 1


def test_module_dict_as_a_dict():
    d = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Linear(1, 1)})
    d.update([("c", nn.Tanh())])
    assert list(d) == ["b", "a", "c"] and "a" in d and "z" not in d
    del d["b"]
    assert list(d.state_dict()) == ["a.weight", "a.bias"]
    assert type(d.pop("c")).__name__ == "Tanh" and list(d.keys()) == ["a"]
    with pytest.raises(KeyError):
        del d["zz"]
    with pytest.raises(ValueError, match="element #0 should be a \\(key, module\\) pair"):
        d.update(["ab"])
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        d["x"] = 1
    d.clear()
    assert len(d) == 0 and list(d.parameters()) == []


def test_parameter_list_and_dict():
    params = nn.ParameterList([np.zeros((2, 3)), nn.Parameter(np.ones(2))])
    params += [np.full(1, 2.0)]
    assert [k for k, _ in params.named_parameters()] == ["0", "1", "2"]
    assert params[-1].tolist() == [2.0] and params[0].requires_grad
    assert isinstance(params[1:], nn.ParameterList) and params[1:][0] is params[1]
    params[0] = np.ones(1)
    assert params[0].shape == (1,)
    with pytest.raises(IndexError, match="ParameterList: index 3 is out of range"):
        params[3]
    with pytest.raises(TypeError, match="expected a Parameter, a Tensor or an array, got str"):
        params.append("w")
    d = nn.ParameterDict({"w": np.ones((2, 2))})
    d["b"] = np.zeros(2)
    assert list(nn.ParameterDict({"b": np.ones(1), "a": np.ones(1)})) == ["a", "b"]  # PyTorch's
    assert list(d) == ["w", "b"] and list(d.state_dict()) == ["w", "b"]
    assert d.get("zz") is None and d.pop("w").shape == (2, 2) and "w" not in d
    with pytest.raises(TypeError, match="a key must be a str, got int"):
        d[0] = np.ones(1)
    with pytest.raises(KeyError, match=re.escape("can't contain '.'")):
        d["a.b"] = np.ones(1)


def test_parameter_containers_equal_pytorchs():
    torch = _torch()
    ours = nn.ParameterList([np.zeros((2, 3), np.float32), np.ones(2, np.float32)])
    theirs = torch.nn.ParameterList([torch.zeros(2, 3), torch.ones(2)])
    assert repr(ours) == repr(theirs).replace("torch.", "")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    d = nn.ParameterDict({"b": np.ones(1), "a": np.ones(1)})
    t = torch.nn.ParameterDict({"b": torch.ones(1), "a": torch.ones(1)})
    assert list(d.state_dict()) == list(t.state_dict())


def test_module_list_prints_runs_of_alike_modules_as_pytorchs():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU(), nn.Linear(2, 2)])
    assert repr(layers) == """ModuleList(
  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)
  (3): ReLU()
  (4): Linear(in_features=2, out_features=2, bias=True)
)"""
    nested = nn.ModuleList([nn.Sequential(nn.ReLU()), nn.Sequential(nn.ReLU())])
    assert repr(nested) == "ModuleList(\n  (0-1): 2 x Sequential(\n    (0): ReLU()\n  )\n)"
    assert repr(nn.ModuleList()) == "ModuleList()"


def test_module_list_repr_equals_pytorchs():
    torch = _torch()

    def build(lib):
        return lib.ModuleList([lib.Linear(2, 2), lib.Linear(2, 2), lib.Sequential(lib.ReLU()),
                               lib.Sequential(lib.ReLU()), lib.Tanh()])

    assert repr(build(nn)) == repr(build(torch.nn))


def test_children_of_a_module_held_twice_are_given_once():
    act = nn.ReLU()
    model = nn.Sequential(act, nn.Tanh(), act)
    assert [k for k, _ in model.named_children()] == ["0", "1"]  # was ['0', '1', '2']
    calls = []
    model.apply(lambda m: calls.append(type(m).__name__))
    assert calls == ["ReLU", "Tanh", "Sequential"]


def test_a_function_in_a_container_is_refused():
    import nn.functional as F

    # was accepted: Sequential(Identity(), F.relu) skipped the relu silently ([-1, 2] out),
    # ModuleList dropped it
    with pytest.raises(TypeError, match="Sequential: function is not a Module subclass"):
        nn.Sequential(nn.Identity(), F.relu)
    with pytest.raises(TypeError, match=re.escape("ModuleList.append: function is not a Module")):
        nn.ModuleList([nn.Identity(), F.relu])
    with pytest.raises(TypeError, match="Sequential: function is not a Module subclass"):
        nn.Sequential({"act": F.relu})
