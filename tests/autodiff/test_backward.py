"""backward(): seeding, accumulation, retain_graph, create_graph, freeing, hooks, depth."""

import gc
import sys
import weakref

import numpy as np
import pytest

import autodiff as ad


def test_scalar_output_seeds_one():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_non_scalar_without_grad_names_the_shape():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(2,\), not a scalar"):
        (x * 2).backward()


def test_non_scalar_with_grad_is_a_vjp():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    (x * x).backward(ad.tensor([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad.data, [2.0, 40.0])


def test_grad_of_wrong_shape_names_both_shapes():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(ad.ones(3))


def test_backward_on_tensor_without_grad_says_why():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ad.tensor([1.0]).sum().backward()


def test_gradients_accumulate_across_calls():
    x = ad.tensor(2.0, requires_grad=True)
    (x * x).backward()
    (x * x).backward()
    assert x.grad.item() == 8.0
    x.grad = None
    (x * 5).backward()
    assert x.grad.item() == 5.0


def test_non_leaf_keeps_grad_only_after_retain_grad():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    k = x * 3
    h.retain_grad()
    (h * k).sum().backward()
    np.testing.assert_array_equal(h.grad.data, k.data)
    assert k.grad is None
    assert not h.is_leaf and x.is_leaf


def test_second_backward_through_freed_graph_mentions_retain_graph():
    x = ad.tensor(3.0, requires_grad=True)
    y = x.exp() * x
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = ad.tensor(3.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 12.0


def test_create_graph_allows_differentiating_a_gradient():
    x = ad.tensor(2.0, requires_grad=True)
    y = x ** 3
    y.backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.item() == 12.0
    x.grad = None
    g.backward()
    assert x.grad.item() == 12.0  # d/dx 3x^2 = 6x = 12


def test_diamond_graph_sums_both_paths():
    x = ad.tensor(1.5, requires_grad=True)
    a = x * 2
    b = a.exp()
    c = a * a
    (b + c).backward()
    expected = 2 * np.exp(3.0) + 2 * 2 * 3.0
    assert np.isclose(x.grad.item(), expected)


def test_broadcasting_is_undone():
    b = ad.zeros(3, requires_grad=True)
    W = ad.ones((2, 3), requires_grad=True)
    (W + b).sum().backward()
    np.testing.assert_array_equal(b.grad.data, [2.0, 2.0, 2.0])
    c = ad.zeros((2, 1), requires_grad=True)
    (W * c + c).sum().backward()
    np.testing.assert_array_equal(c.grad.data, [[6.0], [6.0]])  # 3 from W * c, 3 from + c


def test_leaf_grads_never_alias_each_other_or_the_seed():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = ad.tensor([3.0, 4.0], requires_grad=True)
    seed = ad.tensor([1.0, 1.0])
    (x + y).backward(seed)
    assert not np.shares_memory(x.grad.data, y.grad.data)
    assert not np.shares_memory(x.grad.data, seed.data)
    x.grad.data[0] = 100.0
    assert y.grad.data[0] == 1.0 and seed.data[0] == 1.0


def test_leaf_grads_the_walk_hands_over_are_owned_and_writeable():
    # The walk hands a leaf the array a backward made, without a copy, unless the caller, a
    # hook, another leaf or a view shares it.
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    x.sum().backward()  # sum's backward is a read-only broadcast view
    assert x.grad.data.flags.writeable and x.grad.data.base is None
    leaf = ad.tensor([5.0], requires_grad=True)
    seed = ad.tensor([2.0])
    leaf.backward(seed)  # the root is the leaf: its gradient is the caller's seed
    assert not np.shares_memory(leaf.grad.data, seed.data)
    kept = ad.tensor([7.0, 7.0])
    z = ad.tensor([1.0, 1.0], requires_grad=True)
    z.register_hook(lambda g: kept)  # a hook hands back a tensor the caller keeps
    (z * 3).sum().backward()
    assert z.grad.tolist() == [7.0, 7.0] and not np.shares_memory(z.grad.data, kept.data)
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    (w * 2).sum().backward()
    first = w.grad.data
    (w * 2).sum().backward()  # accumulation makes a new array: an old reference stays valid
    assert first.tolist() == [2.0, 2.0] and w.grad.tolist() == [4.0, 4.0]


@pytest.mark.slow
def test_million_op_chain_at_default_recursion_limit():
    limit = sys.getrecursionlimit()
    x = ad.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    y.backward()
    assert x.grad.item() == 1.0
    assert sys.getrecursionlimit() == limit


def test_no_reference_cycles_per_training_step():
    W = ad.randn(4, 3, requires_grad=True)
    x = ad.randn(8, 4)
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            h = (x @ W).tanh()
            loss = (h.exp() * h).mean()
            node = weakref.ref(loss.grad_fn)
            loss.backward()
            with ad.no_grad():
                W.data -= 0.1 * W.grad.data
            W.grad = None
            del h, loss
            assert node() is None  # freed by reference counting alone
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_forward_without_backward_leaves_no_cycles():
    gc.collect()
    gc.disable()
    try:
        x = ad.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp().tanh().sqrt()
        node = weakref.ref(y.grad_fn)
        del y
        assert node() is None
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_hooks_on_leaves_and_non_leaves_can_replace_the_gradient():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(g.data.copy()))
    remove = x.register_hook(lambda g: g * 10)
    (h * 3).sum().backward()
    np.testing.assert_array_equal(seen[0], [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.data, [60.0, 60.0])
    remove()
    x.grad = None
    (x * 1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_hook_on_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ad.tensor([1.0]).register_hook(lambda g: g)


def test_detach_cuts_the_graph():
    x = ad.tensor(2.0, requires_grad=True)
    y = x * x
    z = y.detach() * x
    z.backward()
    assert x.grad.item() == 4.0  # only the direct path
    assert not y.detach().requires_grad
    assert np.shares_memory(y.detach().data, y.data)


def test_requires_grad_rules():
    with pytest.raises(TypeError, match="floating"):
        ad.tensor(np.array([1, 2])).requires_grad_()
    with pytest.raises(TypeError, match="floating"):
        ad.arange(3, requires_grad=True)
    x = ad.ones(2).requires_grad_()
    assert x.requires_grad and x.is_leaf
    with pytest.raises(RuntimeError, match="detach"):
        (x * 2).requires_grad_(False)


def test_in_place_assignment_on_tensor_requiring_grad_is_refused():
    x = ad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad.*in place"):
        x[0] = 5.0
    with ad.no_grad():
        x[0] = 5.0
    assert x.data[0] == 5.0


class _Square(ad.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * 2 * a


def _step_retain_grad(x):
    h = x.exp()
    h.retain_grad()
    y = (h * h).sum()
    y.backward()
    return y


def _step_create_graph(x):
    y = (x.exp() * x).sum()
    y.backward(create_graph=True)
    x.grad.sum().backward()
    return y


def _step_retain_graph(x):
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    return y


def _step_hook(x):
    h = x * 2
    h.register_hook(lambda g: g * 2)
    y = h.sum()
    y.backward()
    return y


def _step_grad_of_grad(x):
    y = ad.grad(ad.grad(lambda t: (t ** 3).tanh().sum()))(x[0])
    return y


def _step_function(x):
    y = _Square.apply(x).sum()
    y.backward()
    return y


def _step_anomaly(x):
    with ad.detect_anomaly():
        y = (x.exp() * x).sum()
        y.backward()
    return y


@pytest.mark.parametrize("step", [_step_retain_grad, _step_create_graph, _step_retain_graph,
                                  _step_hook, _step_grad_of_grad, _step_function, _step_anomaly])
def test_no_reference_cycles_in_any_mode(step):
    gc.collect()
    gc.disable()
    try:
        x = ad.tensor([0.5, 1.0], requires_grad=True)
        y = step(x)
        node = weakref.ref(y.grad_fn) if y.grad_fn is not None else None
        del y
        x.grad = None
        assert node is None or node() is None
        assert gc.collect() == 0 and not gc.garbage
    finally:
        gc.enable()


def test_retained_grad_does_not_alias_the_seed():
    h = ad.tensor([1.0, 2.0], requires_grad=True)
    z = h * 2
    z.retain_grad()
    seed = ad.tensor([1.0, 1.0])
    z.backward(seed)
    assert not np.shares_memory(z.grad.data, seed.data)
    assert not np.shares_memory(z.grad.data, h.grad.data)


def test_a_leaf_hook_sees_the_whole_gradient_once():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.data.copy()))
    x.register_hook(lambda g: g.clip(-1.0, 1.0))  # not linear: must see the sum, not the parts
    (x * 2 + x * 3).sum().backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [5.0, 5.0])
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_register_hook_returns_a_handle_with_remove():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 10)
    handle.remove()
    handle.remove()  # a second time: nothing
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


@pytest.mark.parametrize("retain_first", [True, False])
def test_retain_grad_keeps_what_the_hooks_made_whatever_the_order(retain_first):
    # PyTorch (>= 2.0) runs the retain_grad hook after the tensor's other hooks
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    if retain_first:
        y.retain_grad()
    y.register_hook(lambda g: g * 10)
    if not retain_first:
        y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [40.0, 80.0])
    np.testing.assert_array_equal(x.grad.data, [80.0, 160.0])


def test_hooks_and_retain_grad_match_pytorch():
    torch = pytest.importorskip("torch", reason="compares hook order with PyTorch")
    got = []
    for lib in (ad, torch):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        y.register_hook(lambda g: g + 1)
        y.register_hook(lambda g: g * 2)
        (y * y).sum().backward()
        got.append((np.array(y.grad.tolist()), np.array(x.grad.tolist())))
    for a, b in zip(*got):
        np.testing.assert_array_equal(a, b)


def test_assigning_grad_checks_type_shape_and_dtype():
    x = ad.tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"assigning .grad: a gradient of shape \(3, 1\) to a "
                                           r"tensor of shape \(3,\)"):
        x.grad = ad.tensor(np.zeros((3, 1)))  # accumulation would have broadcast to (3, 3)
    with pytest.raises(RuntimeError, match="a gradient of dtype float32 to a tensor of dtype "
                                           "float64"):
        x.grad = ad.zeros(3)
    with pytest.raises(TypeError, match="expected a Tensor or None, got ndarray"):
        x.grad = np.zeros(3)
    assert x.grad is None
    x.grad = ad.tensor(np.ones(3))
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0, 3.0])
    x.grad = None
    assert x.grad is None


def test_assigning_requires_grad_is_checked_as_requires_grad_():
    t = ad.tensor(np.array([1, 2]))
    with pytest.raises(TypeError, match="only floating tensors can require grad"):
        t.requires_grad = True  # (it gave an integer tensor integer gradients)
    assert not t.requires_grad
    x = ad.tensor([1.0, 2.0])
    x.requires_grad = True
    y = x * 2
    with pytest.raises(RuntimeError, match=r"requires_grad_\(False\) on a non-leaf"):
        y.requires_grad = False  # (it left a node on a tensor that "requires no grad")
    assert y.requires_grad and y.grad_fn is not None
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [8.0, 16.0])
