"""Module state as PyTorch's where the audit found it different: a tensor shared by several
modules (tied weights, one module reached twice) is in `state_dict()` under every name, and a
PyTorch state of such a model loads; non-persistent buffers; `state_dict(prefix=,
keep_vars=, destination=)`; `train()` through each child's own `train`; the names
`add_module`, `register_parameter` and `register_buffer` accept."""

import re

import numpy as np
import pytest

import autodiff as ad
import nn


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def _tied(lib):
    class T(lib.Module):
        def __init__(self):
            super().__init__()
            self.enc = lib.Linear(2, 2)
            self.dec = lib.Linear(2, 2)
            self.dec.weight = self.enc.weight

    return T()


def _shared(lib):
    fc = lib.Linear(2, 2)
    return lib.Sequential(fc, lib.ReLU(), fc)


# -- shared tensors -----------------------------------------------------------------------------

def test_state_dict_lists_a_tied_weight_under_each_name_in_place():
    # was ['enc.weight', 'enc.bias', 'dec.bias']: the tied weight once, and a PyTorch state
    # of the same model was refused (unexpected key 'dec.weight')
    assert list(_tied(nn).state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    assert list(_shared(nn).state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_state_dict_keys_equal_pytorchs_for_shared_tensors():
    torch = _torch()
    for build in (_tied, _shared):
        assert list(build(nn).state_dict()) == list(build(torch.nn).state_dict())


def test_a_pytorch_state_of_a_shared_module_loads():
    model = _shared(nn)
    w, b = np.arange(4.0).reshape(2, 2), np.array([5.0, 6.0])
    state = {"0.weight": w, "0.bias": b, "2.weight": w, "2.bias": b}
    assert model.load_state_dict(state) == []
    assert model[0].weight.tolist() == w.tolist() and model[2] is model[0]


def test_one_name_of_a_shared_tensor_is_enough_and_two_values_are_refused():
    model = _tied(nn)
    state = model.state_dict()
    del state["dec.weight"]  # as saved before this fix: the tied weight once
    state["enc.weight"] = np.full((2, 2), 3.0)
    result = model.load_state_dict(state)
    assert result == [] and result.missing_keys == []
    assert model.dec.weight.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    state["dec.weight"] = np.zeros((2, 2))
    with pytest.raises(ValueError, match=re.escape("'enc.weight' and 'dec.weight' are one shared")):
        model.load_state_dict(state)
    assert model.enc.weight.tolist() == [[3.0, 3.0], [3.0, 3.0]]  # nothing was loaded


def test_named_parameters_without_remove_duplicate_gives_every_path():
    fc = nn.Linear(1, 1)
    model = nn.Sequential(fc, fc)
    assert [k for k, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    # was ['0.weight', '0.bias']: the module reached twice was walked once
    assert [k for k, _ in model.named_parameters(remove_duplicate=False)] == [
        "0.weight", "0.bias", "1.weight", "1.bias"]
    assert [k for k, _ in model.named_modules(remove_duplicate=False)] == ["", "0", "1"]
    memo = {fc}
    assert [k for k, _ in model.named_modules(memo)] == [""]


def test_named_parameters_remove_duplicate_equals_pytorchs():
    torch = _torch()
    for build in (_tied, _shared):
        for dup in (True, False):
            ours = [k for k, _ in build(nn).named_parameters(remove_duplicate=dup)]
            assert ours == [k for k, _ in build(torch.nn).named_parameters(remove_duplicate=dup)]


def test_reassigning_a_parameter_keeps_its_place():
    layer = nn.Linear(2, 2)
    layer.weight = nn.Parameter(np.zeros((2, 2)))
    assert [k for k, _ in layer.named_parameters()] == ["weight", "bias"]


# -- non-persistent buffers, state_dict's arguments ---------------------------------------------

class Masked(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.register_buffer("mask", np.ones(2), persistent=False)
        self.register_buffer("scale", np.ones(2))


def test_a_non_persistent_buffer_is_a_buffer_but_not_state():
    m = Masked()
    assert [k for k, _ in m.named_buffers()] == ["mask", "scale"]
    assert list(m.state_dict()) == ["scale", "fc.weight", "fc.bias"]
    state = m.state_dict()
    assert m.load_state_dict(state) == []
    with pytest.raises(KeyError, match="unexpected keys \\['mask'\\]"):
        m.load_state_dict({**state, "mask": np.zeros(2)})
    assert m.double().mask.dtype == np.float64  # still cast as a buffer
    m.register_buffer("mask", np.ones(2))  # registered again, persistent
    assert "mask" in m.state_dict()


def test_non_persistent_buffers_equal_pytorchs():
    torch = _torch()
    t = torch.nn.Module()
    t.register_buffer("a", torch.ones(1), persistent=False)
    t.register_buffer("b", torch.ones(1))
    m = nn.Module()
    m.register_buffer("a", np.ones(1), persistent=False)
    m.register_buffer("b", np.ones(1))
    assert list(m.state_dict()) == list(t.state_dict())
    assert [k for k, _ in m.named_buffers()] == [k for k, _ in t.named_buffers()]


def test_state_dict_prefix_keep_vars_destination():
    layer = nn.Linear(2, 1)
    assert list(layer.state_dict(prefix="net.")) == ["net.weight", "net.bias"]
    kept = layer.state_dict(keep_vars=True)
    assert kept["weight"] is layer.weight and kept["bias"] is layer.bias
    copies = layer.state_dict()
    assert isinstance(copies["weight"], np.ndarray)
    assert not np.shares_memory(copies["weight"], layer.weight.data)
    dest = {"other": 1}
    assert layer.state_dict(destination=dest, prefix="a.") is dest
    assert list(dest) == ["other", "a.weight", "a.bias"]


# -- train() --------------------------------------------------------------------------------

class AlwaysEval(nn.Module):
    def train(self, mode=True):
        return super().train(False)


def test_train_calls_each_childs_own_train():
    model = nn.Sequential(nn.Dropout(), AlwaysEval())
    model.train()
    assert model.training and model[0].training
    assert not model[1].training  # was True: train() set the flag over the child's rule


def test_train_refuses_a_mode_that_is_not_boolean():
    with pytest.raises(ValueError, match=re.escape(
            "Linear.train: training mode is expected to be boolean, got 'eval'")):
        nn.Linear(1, 1).train("eval")
    assert nn.Linear(1, 1).train(np.bool_(False)).training is False


# -- names ------------------------------------------------------------------------------------

@pytest.mark.parametrize("method, value", [
    ("add_module", nn.ReLU()), ("register_parameter", nn.Parameter([1.0])),
    ("register_buffer", ad.ones(1))])
def test_registration_refuses_bad_names(method, value):
    m = nn.Linear(1, 1)
    register = getattr(m, method)
    with pytest.raises(KeyError, match=re.escape("can't contain '.', got 'a.b'")):
        register("a.b", value)
    with pytest.raises(KeyError, match="non-empty"):
        register("", value)
    with pytest.raises(TypeError, match="must be a str, got int"):
        register(1, value)
    with pytest.raises(KeyError, match="attribute 'train' already exists on Linear"):
        register("train", value)
    with pytest.raises(KeyError, match="attribute 'in_features' already exists"):
        register("in_features", value)


def test_a_module_dict_key_cannot_hide_a_method():
    # was accepted: ModuleDict({'train': ...}) replaced the train method by the module
    with pytest.raises(KeyError, match="attribute 'train' already exists"):
        nn.ModuleDict({"train": nn.ReLU()})
    with pytest.raises(KeyError, match=re.escape("can't contain '.'")):
        nn.ModuleDict({"a.b": nn.ReLU()})  # its state keys would read as a path


def test_register_parameter_refuses_what_is_not_a_parameter():
    m = nn.Module()
    with pytest.raises(TypeError, match=re.escape(
            "cannot assign 'Tensor' object to parameter 'w' (nn.Parameter or None required)")):
        m.register_parameter("w", ad.ones(2))
    with pytest.raises(TypeError, match="str is not a Module subclass"):
        m.add_module("child", "relu")
    m.register_parameter("w", None)
    m.register_parameter("w", nn.Parameter([1.0]))  # a registered name takes a value later
    assert [k for k, _ in m.named_parameters()] == ["w"]


def test_get_submodule_parameter_buffer():
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 1), nn.BatchNorm1d(1)))
    assert model.get_submodule("") is model
    assert model.get_submodule("0.1") is model[0][1]
    assert model.get_parameter("0.0.weight") is model[0][0].weight
    assert model.get_buffer("0.1.running_mean") is model[0][1].running_mean
    with pytest.raises(AttributeError, match=re.escape("Sequential has no submodule '2' "
                                                       "(in '0.2')")):
        model.get_parameter("0.2.weight")
    with pytest.raises(AttributeError, match="Linear has no parameter 'scale'"):
        model.get_parameter("0.0.scale")
    with pytest.raises(AttributeError, match="BatchNorm1d has no buffer 'weight'"):
        model.get_buffer("0.1.weight")


def test_to_names_a_pytorch_dtype_as_such():
    torch = _torch()
    layer = nn.Linear(2, 1)
    # was "device 'torch.float64' is not available"
    with pytest.raises(TypeError, match=re.escape("Module.to: torch.float64 is PyTorch's "
                                                  "dtype (or device); give NumPy's, e.g. "
                                                  "to('float64')")):
        layer.to(torch.float64)
    with pytest.raises(TypeError, match=re.escape("torch.float16 is PyTorch's dtype")):
        layer.to(dtype=torch.float16)
    assert layer.to(torch.device("cpu")) is layer and layer.weight.dtype == np.float32
