"""Module methods PyTorch users reach for: forward hooks and pre-hooks (PyTorch's semantics,
compared call by call), apply, to / float / double / half (parameters keep their identity, so
optimizers keep working), buffers, requires_grad_, zero_grad(set_to_none)."""

import numpy as np
import pytest

import autodiff as ad
import nn


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(np.array([2.0]))
        self.register_buffer("count", np.array([0], dtype=np.int64))
        self.register_buffer("offset", np.array([0.5]))

    def forward(self, x, shift=0.0):
        return x * self.w + shift


# -- forward hooks and pre-hooks ---------------------------------------------------------------

def _hook_scenario(lib, Linear, tensor):
    """The same hooks on a layer of `lib`; returns what they saw and the outputs."""
    log = []
    layer = Linear(2, 2)
    h1 = layer.register_forward_pre_hook(lambda m, args: log.append(("pre", len(args))))
    h2 = layer.register_forward_pre_hook(lambda m, args: args[0] * 2)  # one value: wrapped
    h3 = layer.register_forward_hook(lambda m, args, out: log.append(("post", tuple(out.shape))))
    h4 = layer.register_forward_hook(lambda m, args, out: out * 0, prepend=True)
    h5 = layer.register_forward_pre_hook(lambda m, args: log.append(("first", 0)),
                                         prepend=True)
    out1 = layer(tensor)
    h4.remove()
    h4.remove()  # a second remove does nothing
    out2 = layer(tensor)
    for h in (h1, h2, h3, h5):
        h.remove()
    out3 = layer(tensor)
    return log, out1, out2, out3, layer


def test_hooks_run_as_pytorchs():
    torch = _torch()
    x = np.array([[1.0, -1.0]])
    ours = _hook_scenario(nn, nn.Linear, ad.tensor(x))
    theirs = _hook_scenario(torch.nn, torch.nn.Linear, torch.tensor(x, dtype=torch.float32))
    assert ours[0] == theirs[0]
    for got, want in zip(ours[1:4], theirs[1:4]):
        assert got.shape == tuple(want.shape)
    # the prepended hook replaced the output
    assert np.all(ours[1].data == 0) and np.all(theirs[1].detach().numpy() == 0)
    # pre-hook doubled the input; without hooks the layer is plain again
    w, b = ours[4].weight.data, ours[4].bias.data
    np.testing.assert_allclose(ours[2].data, (2 * x) @ w.T + b, rtol=1e-6)
    np.testing.assert_allclose(ours[3].data, x @ w.T + b, rtol=1e-6)


def test_hooks_closed_form_order_and_kwargs():
    log = []
    m = Scale()
    m.register_forward_pre_hook(lambda mod, args: log.append("pre-a"))
    m.register_forward_pre_hook(lambda mod, args: log.append("pre-b"), prepend=True)
    m.register_forward_hook(lambda mod, args, out: log.append("post-a"))
    m.register_forward_hook(lambda mod, args, out: log.append("post-b"), prepend=True)
    m(ad.tensor([1.0]))
    assert log == ["pre-b", "pre-a", "post-b", "post-a"]

    m = Scale()
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {**kwargs, "shift": 10.0}),
                                with_kwargs=True)
    seen = []
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(kwargs),
                            with_kwargs=True)
    assert m(ad.tensor([1.0]), shift=1.0).tolist() == [12.0]
    assert seen == [{"shift": 10.0}]
    m = Scale()
    m.register_forward_pre_hook(lambda mod, args: (args[0] + 1, 5.0))  # a tuple: the args
    assert m(ad.tensor([1.0])).tolist() == [9.0]


def test_a_hook_can_replace_the_output_and_gradients_flow():
    layer = nn.Linear(2, 1)
    with layer.register_forward_hook(lambda m, args, out: out * 3):
        y = layer(ad.ones((1, 2)))
    y.sum().backward()
    np.testing.assert_allclose(layer.bias.grad.data, [3.0])
    assert len(layer._forward_hooks) == 0  # removed at the end of the with block


def test_always_call_hooks_run_when_forward_raises():
    class Boom(nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    calls = []
    m = Boom()
    m.register_forward_hook(lambda mod, args, out: calls.append(("always", out)),
                            always_call=True)
    m.register_forward_hook(lambda mod, args, out: calls.append(("plain", out)))

    def failing(mod, args, out):
        raise ValueError("hook failed")

    m.register_forward_hook(failing, always_call=True)
    with (pytest.warns(UserWarning, match="hook with ``always_call=True`` raised an exception "
                                          "that was silenced .*: hook failed"),
          pytest.raises(RuntimeError, match="boom")):
        m(ad.ones(1))
    assert calls == [("always", None)]


def test_hooks_run_in_anomaly_mode_and_errors():
    layer = nn.Identity()
    layer.register_forward_hook(lambda m, args, out: out + 1)
    with ad.detect_anomaly():
        assert layer(ad.tensor([1.0])).tolist() == [2.0]
    with pytest.raises(TypeError, match="register hook: expected a callable, got int"):
        layer.register_forward_hook(3)
    bad = nn.Identity()
    bad.register_forward_pre_hook(lambda m, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"forward pre-hook must return None or a tuple of "
                                           r"\(new_args, new_kwargs\)"):
        bad(ad.tensor([1.0, 2.0]))
    h1, h2 = layer.register_forward_hook(print), layer.register_forward_pre_hook(print)
    assert h1.id != h2.id


# -- apply -------------------------------------------------------------------------------------

def _visit_order(lib):
    order = []
    model = lib.Sequential(lib.Linear(2, 2), lib.Sequential(lib.ReLU(), lib.Linear(2, 1)))
    assert model.apply(lambda m: order.append(type(m).__name__)) is model
    return order


def test_apply_visits_children_first_as_pytorch():
    assert _visit_order(nn) == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]
    torch = _torch()
    assert _visit_order(nn) == _visit_order(torch.nn)


# -- to, float, double, half -------------------------------------------------------------------

def test_double_casts_parameters_buffers_and_gradients_in_place():
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    m(ad.ones((4, 3))).sum().backward()
    params, bufs = list(m.parameters()), list(m.buffers())
    assert m.double() is m
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    assert [id(b) for b in m.buffers()] == [id(b) for b in bufs]
    assert {p.dtype for p in params} | {b.dtype for b in bufs} == {np.dtype(np.float64)}
    assert all(p.grad.dtype == np.float64 for p in params)
    assert m(ad.ones((4, 3), dtype=np.float64)).dtype == np.float64
    assert m.half()[0].weight.dtype == np.float16 and m.float()[1].running_var.dtype == \
        np.float32


def test_integer_buffers_are_left_alone():
    m = Scale().float()
    assert m.count.dtype == np.int64 and m.offset.dtype == np.float32 and m.w.dtype == \
        np.float32


@pytest.mark.parametrize("make", [lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: nn.optim.Adam(ps, lr=0.1)], ids=["SGD", "Adam"])
def test_an_optimizer_built_before_double_keeps_updating(make):
    ad.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = make(model.parameters())
    model.double()
    x = ad.tensor(np.random.default_rng(0).standard_normal((5, 3)))
    before = model.weight.data.copy()
    for _ in range(3):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
    assert model.weight.dtype == np.float64 and not np.array_equal(model.weight.data, before)


def test_sgd_step_after_double_is_the_float64_update():
    model = nn.Linear(2, 1)
    opt = nn.optim.SGD(model.parameters(), lr=0.5)
    model.double()
    w0, b0 = model.weight.data.copy(), model.bias.data.copy()
    x = np.array([[1.0, 2.0]])
    model(ad.tensor(x)).sum().backward()
    opt.step()
    np.testing.assert_array_equal(model.weight.data, w0 - 0.5 * x)
    np.testing.assert_array_equal(model.bias.data, b0 - 0.5)


def test_to_forms():
    m = nn.Linear(2, 1)
    w = m.weight
    assert m.to(np.float64) is m and w.dtype == np.float64
    assert m.to("float32").weight.dtype == np.float32
    assert m.to(dtype="float64", device="cpu", non_blocking=True).weight.dtype == np.float64
    assert m.to(ad.zeros(1, dtype=np.float32)).weight.dtype == np.float32  # a tensor's dtype
    assert m.to("cpu", np.float64).weight.dtype == np.float64
    data = w.data
    assert m.to("cpu") is m and m.weight.data is data  # no dtype: nothing changes

    class Device:  # what torch.device("cpu") prints as
        def __str__(self):
            return "cpu"

    assert m.to(Device()) is m and m.to("cpu:0") is m
    assert m.weight is w


def test_to_errors():
    m = nn.Linear(2, 1)
    with pytest.raises(ValueError, match=r"Module\.to: device 'cuda' is not available: this "
                                         r"library computes with NumPy on the CPU"):
        m.to("cuda")
    with pytest.raises(ValueError, match="device 'mps' is not available"):
        m.to(device="mps", dtype=np.float64)
    with pytest.raises(TypeError, match=r"only floating dtypes \(float16, float32, float64\) "
                                        r"can be given to parameters and buffers, got int64"):
        m.to(np.int64)
    with pytest.raises(TypeError, match="expected to\\(dtype\\), to\\(tensor\\), to\\(device\\)"):
        m.to(memory_format=None)
    assert m.weight.dtype == np.float32  # nothing changed


def test_to_matches_pytorch_on_the_forms_it_shares():
    torch = _torch()
    ours, theirs = nn.Linear(2, 1), torch.nn.Linear(2, 1)
    for args, kwargs in [(("cpu",), {}), ((), {"dtype": None})]:
        ours.to(*args, **kwargs)
        theirs.to(*args, **kwargs)
        assert str(ours.weight.dtype) == str(theirs.weight.dtype).removeprefix("torch.")
    ours.double(), theirs.double()
    assert str(ours.weight.dtype) == str(theirs.weight.dtype).removeprefix("torch.")


# -- buffers, requires_grad_, zero_grad --------------------------------------------------------

def test_buffers_and_named_buffers():
    inner = Scale()
    m = nn.Sequential(inner, nn.BatchNorm1d(2))
    assert [k for k, _ in m.named_buffers()] == ["0.count", "0.offset", "1.running_mean",
                                                 "1.running_var"]
    assert [k for k, _ in m.named_buffers(prefix="net")][:1] == ["net.0.count"]
    assert list(m.named_buffers(recurse=False)) == []
    assert len(list(m.buffers())) == 4 and len(list(inner.buffers(recurse=False))) == 2
    assert [k for k, _ in m.named_parameters(recurse=False)] == []
    shared = nn.Sequential(inner, inner)
    assert len(list(shared.named_buffers())) == 2  # each once, as PyTorch
    assert [k for k, _ in shared.named_buffers(remove_duplicate=False)] == [
        "0.count", "0.offset", "1.count", "1.offset"]  # every path, as PyTorch


def test_buffers_match_pytorch_names():
    torch = _torch()
    ours = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm2d(3), nn.Sequential(nn.BatchNorm1d(2)))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm2d(3),
                                 torch.nn.Sequential(torch.nn.BatchNorm1d(2)))
    # PyTorch also counts num_batches_tracked, which these layers do not have
    want = [k for k, _ in theirs.named_buffers() if "num_batches_tracked" not in k]
    assert [k for k, _ in ours.named_buffers()] == want
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]


def test_requires_grad_freezes_and_unfreezes():
    m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    assert m[0].requires_grad_(False) is m[0]
    assert [p.requires_grad for p in m.parameters()] == [False, False, True, True]
    m(ad.ones((1, 2))).sum().backward()
    assert m[0].weight.grad is None and m[1].weight.grad is not None
    m.requires_grad_()
    assert all(p.requires_grad for p in m.parameters())


def test_zero_grad_set_to_none_or_zeros_in_place():
    m = nn.Linear(2, 1)
    m(ad.ones((1, 2))).sum().backward()
    g = m.weight.grad
    version = g._version
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is g and g.tolist() == [[0.0, 0.0]] and g._version > version
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None
    m.zero_grad(set_to_none=False)  # no gradient: stays None
    assert m.weight.grad is None
    # a gradient made with create_graph: cut from its graph, then zeroed
    x = ad.ones((1, 2))
    (m(x) ** 2).sum().backward(create_graph=True)
    assert m.weight.grad.grad_fn is not None
    m.zero_grad(set_to_none=False)
    assert m.weight.grad.grad_fn is None and m.weight.grad.tolist() == [[0.0, 0.0]]


def test_zero_grad_default_matches_pytorch():
    torch = _torch()
    layer = torch.nn.Linear(2, 1)
    layer(torch.ones(1, 2)).sum().backward()
    layer.zero_grad()
    ours = nn.Linear(2, 1)
    ours(ad.ones((1, 2))).sum().backward()
    ours.zero_grad()
    assert (layer.weight.grad is None) == (ours.weight.grad is None) is True


# -- assignment to registered names --------------------------------------------------------------

def test_assigning_a_registered_name_keeps_it_registered_as_pytorch():
    m = Scale()
    m.offset = ad.tensor([1.5], dtype=np.float64)  # a buffer stays a buffer (new tensor)
    assert m.state_dict()["offset"].tolist() == [1.5]
    m.w = None  # a parameter slot without a value
    assert "w" in m._parameters and list(m.named_parameters()) == []
    m.w = nn.Parameter(np.array([3.0]))
    assert [k for k, _ in m.named_parameters()] == ["w"]
    seq = nn.Sequential(nn.Linear(1, 1))
    seq.add_module("1", None)
    assert list(seq._modules) == ["0", "1"] and len(seq) == 2 and len(list(seq.children())) == 1
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'w' "
                                        r"\(Parameter or None expected\)"):
        m.w = ad.ones(1)
    with pytest.raises(TypeError, match="cannot assign 'int' as child module '0'"):
        setattr(seq, "0", 3)
    with pytest.raises(TypeError, match="cannot assign 'ndarray' as buffer 'offset' "
                                        r"\(Tensor or None expected\)"):
        m.offset = np.ones(1)


def test_assignment_matches_pytorch():
    torch = _torch()
    for lib, tensor in [(nn, lambda: ad.ones(1)), (torch.nn, lambda: torch.ones(1))]:
        layer = lib.BatchNorm1d(2)
        layer.running_mean = tensor()
        layer.bias = None
        assert "running_mean" in dict(layer.named_buffers())
        assert [k for k, _ in layer.named_parameters()] == ["weight"]
        with pytest.raises(TypeError, match=r"cannot assign .* as parameter 'weight'"):
            layer.weight = tensor()
