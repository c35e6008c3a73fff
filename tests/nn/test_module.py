"""Module registration, traversal, modes, state dicts, repr, summary."""

from collections import OrderedDict

import numpy as np
import pytest

import autodiff as ad
import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.drop = nn.Dropout(0.5)
        self.scale = nn.Parameter([2.0])

    def forward(self, x):
        return self.drop(self.bn(self.fc(x))) * self.scale


def test_registration_and_traversal():
    b = Block()
    names = [n for n, _ in b.named_parameters()]
    assert names == ["scale", "fc.weight", "fc.bias", "bn.weight", "bn.bias"]
    assert [n for n, _ in b.named_modules()] == ["", "fc", "bn", "drop"]
    assert [n for n, _ in b.named_buffers()] == ["bn.running_mean", "bn.running_var"]
    assert len(list(b.children())) == 3
    b.fc = nn.Identity()  # reassigning replaces the registration
    assert "fc.weight" not in dict(b.named_parameters())
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, shared)
    assert len(list(seq.parameters())) == 2  # each parameter once


def test_super_init_is_required():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match="super"):
        Bad()


def test_train_eval_propagate():
    b = Block().eval()
    assert not b.training and not b.bn.training and not b.drop.training
    b.train()
    assert b.drop.training


def test_state_dict_round_trip_and_errors():
    ad.manual_seed(0)
    a, b = Block(), Block()
    state = a.state_dict()
    assert isinstance(state, OrderedDict) and state["fc.weight"].shape == (4, 3)
    b.load_state_dict(state)
    for (_k, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    state["fc.weight"][0, 0] = 99.0  # copies, not views
    assert a.fc.weight.data[0, 0] != 99.0
    bad = dict(state)
    bad["fc.weight"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match=r"'fc.weight' has shape \(3, 3\).*\(4, 3\)"):
        b.load_state_dict(bad)
    missing = dict(state)
    del missing["fc.bias"]
    with pytest.raises(KeyError, match=r"missing keys \[.fc.bias.\]"):
        b.load_state_dict(missing)
    extra = dict(state, other=np.zeros(1))
    with pytest.raises(KeyError, match="unexpected keys \\['other'\\]"):
        b.load_state_dict(extra)
    assert b.load_state_dict(missing, strict=False) == ["fc.bias"]



def trained_net():
    """Linear, BatchNorm1d, ReLU, Linear, after a few steps: parameters and running statistics
    that differ from a fresh model's."""
    ad.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    opt = nn.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(3):
        (net(ad.randn(8, 3)) ** 2).mean().backward()
        opt.step()
    return net


def snapshot(net):
    """Every array of the model, as bytes (bit-identical, NaN included), and the objects."""
    arrays = {k: (t.data.dtype, t.data.shape, t.data.tobytes())
              for k, t in [*net.named_parameters(), *net.named_buffers()]}
    return arrays, [id(p) for p in net.parameters()], [id(p.data) for p in net.parameters()]


def nan_at_5(v):
    return np.where(np.arange(v.size).reshape(v.shape) == 5, np.nan, v)


@pytest.mark.parametrize("key, value, strict", [
    ("3.bias", np.zeros(3, np.float32), True),  # the last parameter: wrong shape
    ("1.running_var", np.zeros((4, 1), np.float32), True),  # the last buffer: wrong shape
    ("3.bias", np.zeros(3, np.float32), False),
    ("3.weight", nan_at_5, True),
    ("3.weight", lambda v: np.full(v.shape, np.inf, np.float32), True),
    ("3.bias", np.array([1e300, 0.0]), True),  # float64 beyond float32's range
    ("3.bias", np.array([1 + 2j, 0j]), True),
    ("3.bias", np.array(["a", "b"]), True),
    ("3.bias", None, True),
    ("1.running_mean", [[0.0, 1.0], [2.0]], True),  # ragged
], ids=["shape-last-param", "shape-last-buffer", "non-strict", "nan", "inf", "overflow",
        "complex", "strings", "none", "ragged"])
def test_a_failed_load_leaves_the_model_exactly_as_it_was(key, value, strict):
    net = trained_net()
    before = snapshot(net)
    state = OrderedDict((k, v + 1) for k, v in net.state_dict().items())  # all would change
    state[key] = value(state[key]) if callable(value) else value
    with pytest.raises(ValueError, match=f"nothing was loaded: '{key}'"):
        net.load_state_dict(state, strict=strict)
    assert snapshot(net) == before


def test_errors_name_every_bad_key_then_a_good_load_keeps_the_parameters():
    net = trained_net()
    params, arrays = list(net.parameters()), [p.data for p in net.parameters()]
    opt = nn.optim.SGD(net.parameters(), lr=0.1)
    before = snapshot(net)
    state = net.state_dict()
    state["0.weight"] = np.zeros((4, 2), np.float32)
    state["3.bias"] = np.zeros(3, np.float32)
    with pytest.raises(ValueError) as e:
        net.load_state_dict(state)
    msg = str(e.value)
    assert "'0.weight' has shape (4, 2) in the state but (4, 3) in the model" in msg
    assert "'3.bias' has shape (3,) in the state but (2,) in the model" in msg
    state = net.state_dict()
    state["extra"] = np.zeros(1)
    with pytest.raises(KeyError, match=r"unexpected keys \['extra'\]"):
        net.load_state_dict(state)
    assert snapshot(net) == before
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    state = {k: ad.tensor(v.astype(np.float64)) for k, v in other.state_dict().items()}
    state["1.running_var"] = state["1.running_var"].data.tolist()  # a list converts too
    net.load_state_dict(state)
    assert all(p is q for p, q in zip(net.parameters(), params))
    assert all(p.data is a and p.dtype == np.float32 for p, a in zip(params, arrays))
    for k, v in other.state_dict().items():
        np.testing.assert_array_equal(net.state_dict()[k], v)
    net[0].weight.grad = ad.ones((4, 3))
    opt.step()  # the optimizer still updates the model's parameters
    np.testing.assert_allclose(net[0].weight.data, other[0].weight.data - 0.1, rtol=1e-6)

def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and len(seq[:2]) == 2
    assert seq(ad.ones((4, 2))).shape == (4, 1)
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(list(ml.parameters())) == 6 and len(ml) == 3
    md = nn.ModuleDict({"a": nn.Linear(1, 1)})
    md["b"] = nn.Tanh()
    assert list(md) == ["a", "b"] and len(list(md.parameters())) == 2


def test_repr_and_zero_grad():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    text = repr(seq)
    assert "(0): Linear(in_features=2, out_features=3, bias=True)" in text and "ReLU()" in text
    seq(ad.ones((1, 2))).sum().backward()
    assert seq[0].weight.grad is not None
    seq.zero_grad()
    assert seq[0].weight.grad is None


def test_summary():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    s = nn.summary(model, (5, 4))
    assert [r[:3] for r in s.rows] == [("0", "Linear", (5, 8)), ("1", "ReLU", (5, 8)),
                                       ("2", "Linear", (5, 2))]
    assert s.total == 4 * 8 + 8 + 8 * 2 + 2 == s.trainable
    assert "total parameters: 58" in str(s)
    assert "forward" not in model[0].__dict__  # hooks removed



def _anomaly(model, x, backward=False):
    import inspect

    with ad.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        line = inspect.currentframe().f_lineno + 1
        out = model(x)  # the user's line
        if backward:
            out.sum().backward()
    return str(info.value), f"test_module.py:{line}: out = model(x)  # the user's line"


def test_anomaly_in_a_layer_names_the_callers_line_and_the_module_path():
    model = nn.Sequential(OrderedDict(features=nn.Sequential(nn.Linear(3, 4), nn.Tanh()),
                                      head=nn.Linear(4, 2)))
    model.features[0].weight.data[0, 0] = np.nan
    msg, line = _anomaly(model, ad.ones((2, 3)))
    assert "'linear' produced nan in forward" in msg
    assert line in msg and msg.endswith("[in module features.0 (Linear)]")
    assert "nn/functional" not in msg


def test_anomaly_in_a_layers_backward_names_the_callers_line_and_the_module_path():
    model = nn.Sequential(OrderedDict(features=nn.Sequential(nn.Linear(1, 1, bias=False)),
                                      head=nn.Linear(1, 1, bias=False)))
    model.features[0].weight.data[...] = 1e-5
    model.head.weight.data[...] = 1e30
    # forward: 1e10 * 1e-5 * 1e30 = 1e35, finite in float32; the first layer's weight
    # gradient is 1e30 * 1e10 = inf
    msg, line = _anomaly(model, ad.tensor([[1e10]]), backward=True)
    assert "the backward of 'linear' produced inf" in msg
    assert line in msg and msg.endswith("[in module features.0 (Linear)]")


def test_anomaly_in_a_users_own_module_names_the_line_of_its_forward():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Linear(3, 4), nn.Tanh())

        def forward(self, x):
            return self.features(x) * 2  # the innermost line of the user's code

    model = Net()
    model.features[0].bias.data[:] = np.inf
    msg, _ = _anomaly(model, ad.ones((2, 3)))
    assert "return self.features(x) * 2  # the innermost" in msg
    assert msg.endswith("[in module features.0 (Linear)]")


def test_anomaly_scopes_only_in_anomaly_mode():
    from autodiff.anomaly import current_scope

    model = nn.Sequential(nn.Linear(2, 2))
    seen = []
    model[0].forward = lambda x: seen.append(current_scope()) or x
    model(ad.ones((1, 2)))
    with ad.detect_anomaly():
        model(ad.ones((1, 2)))
    assert seen == [None, "module 0 (Linear)"]


# -- PyTorch's num_batches_tracked: accepted under a BatchNorm, ignored; elsewhere unexpected --


def test_num_batches_tracked_of_a_batch_norm_is_accepted_and_ignored():
    net = trained_net()
    state = {k: v + 1 for k, v in net.state_dict().items()}
    state["1.num_batches_tracked"] = np.array(17, np.int64)  # as PyTorch's BatchNorm saves it
    assert net.load_state_dict(state) == []
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, state[k])
    assert "1.num_batches_tracked" not in net.state_dict()  # not kept: ours counts nothing
    assert not hasattr(net[1], "num_batches_tracked")
    del state["1.running_var"]
    assert net.load_state_dict(state, strict=False) == ["1.running_var"]


def test_num_batches_tracked_elsewhere_is_an_unexpected_key():
    net = trained_net()
    before = snapshot(net)
    for key in ["0.num_batches_tracked", "num_batches_tracked", "1.num_batches"]:
        state = dict(net.state_dict(), **{key: np.array(3)})
        with pytest.raises(KeyError, match=rf"unexpected keys \['{key}'\]"):
            net.load_state_dict(state)
    assert snapshot(net) == before


@pytest.mark.parametrize("value, problem", [
    (np.array([1, 2]), r"has shape \(2,\) in the state but \(\) in the model"),
    (np.array(1.5), r"is float64 in the state but int64"),
    (np.array("many"), r"holds <U4 values, not real numbers"),
])
def test_a_num_batches_tracked_unlike_pytorchs_is_refused_by_name(value, problem):
    net = trained_net()
    before = snapshot(net)
    state = dict(net.state_dict(), **{"1.num_batches_tracked": value})
    with pytest.raises(ValueError, match=rf"nothing was loaded: '1.num_batches_tracked' "
                                         rf"{problem}.*\(PyTorch's is a 0-d integer\)"):
        net.load_state_dict(state)
    assert snapshot(net) == before
