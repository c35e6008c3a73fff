"""Activation checkpointing (autodiff.checkpoint): the gradients of a checkpointed call are the
plain call's, bit for bit, whatever it reads, returns, draws at random or is differentiated by."""

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.checkpoint import checkpoint, checkpoint_sequential
from autodiff.testing import gradcheck, gradgradcheck


def mlp(dtype, p=0.0, depth=4, width=5):
    ad.manual_seed(0)
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.Tanh()]
        if p:
            layers.append(nn.Dropout(p))
    return nn.Sequential(*layers).to(dtype)


def grads_of(model, x, run):
    """The gradients of every parameter and of x after run(model, x).sum().backward()."""
    model.zero_grad()
    x.grad = None
    run(model, x).sum().backward()
    return [p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()]


def same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert u.dtype == v.dtype and np.array_equal(u, v)


def blocks(model, x):  # two nested modules, each checkpointed
    half = len(model) // 2
    first, second = model[:half], model[half:]
    return checkpoint(second, checkpoint(first, x))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nested_modules_give_the_plain_gradients_bit_for_bit(dtype):
    model = mlp(dtype)
    x = ad.tensor(np.random.default_rng(1).normal(size=(3, 5)).astype(dtype), requires_grad=True)
    plain = grads_of(model, x, lambda m, t: m(t))
    same(plain, grads_of(model, x, blocks))
    same(plain, grads_of(model, x, lambda m, t: checkpoint(m, t)))
    assert plain[0].dtype == dtype


def test_the_graph_holds_the_checkpoint_node_not_the_intermediates():
    model = mlp(np.float64)
    y = checkpoint(model, ad.tensor(np.ones((2, 5)), requires_grad=True))
    assert y.grad_fn.op_name() == "checkpoint"
    # its inputs: the argument and the 8 parameters read from the module
    assert len(y.grad_fn._edges) == 1 + 8


def test_several_inputs_and_outputs_non_tensors_and_tensors_that_need_no_grad():
    rng = np.random.default_rng(2)
    x = ad.tensor(rng.normal(size=(4,)), requires_grad=True)
    y = ad.tensor(rng.normal(size=(4,)), requires_grad=True)
    z = ad.tensor(rng.normal(size=(4,)))  # needs no gradient

    def f(a, b, c, scale, *, shift):
        return {"sum": (a * b + c).sin() * scale + shift, "pair": (a.exp(), c * 2.0),
                "index": (a * b).argmax(), "note": "text"}

    def run(use):
        x.grad = y.grad = None
        out = (checkpoint(f, x, y, z, 3.0, shift=1.5) if use else f(x, y, z, 3.0, shift=1.5))
        assert out["note"] == "text"
        assert not out["pair"][1].requires_grad and not out["index"].requires_grad
        assert out["index"].dtype.kind == "i"
        (out["sum"].sum() + (out["pair"][0] * out["pair"][1]).sum()).backward()
        return [x.grad.numpy(), y.grad.numpy()], out

    plain, out_plain = run(False)
    ckpt, out_ckpt = run(True)
    same(plain, ckpt)
    assert np.array_equal(out_plain["sum"].data, out_ckpt["sum"].data)
    assert z.grad is None


def test_an_output_that_is_not_used_by_the_loss_gets_no_gradient_into_it():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    _, b = checkpoint(lambda t: (t * 3.0, t.exp()), x)
    b.sum().backward()
    assert np.array_equal(x.grad.numpy(), np.exp(np.float32([1.0, 2.0])))


def test_tensors_read_from_outside_get_their_gradient_once():
    """A leaf and a tensor made from it before the call, both read inside: the walk of the
    recomputed graph stops at them, so W's gradient through h is counted once (by the outer
    walk), and W's hook runs once, on the total."""
    rng = np.random.default_rng(3)
    W = ad.tensor(rng.normal(size=(3, 3)), requires_grad=True)
    x = ad.tensor(rng.normal(size=(2, 3)), requires_grad=True)
    calls = []
    W.register_hook(lambda g: calls.append(1) or g * 2.0)

    def run(use):
        W.grad = x.grad = None
        h = (W * W).tanh()  # made before the call, from W
        f = lambda t: ((t @ W) @ h).sin()  # noqa: E731
        ((checkpoint(f, x) if use else f(x)).sum() + h.sum()).backward()
        return [W.grad.numpy(), x.grad.numpy()]

    plain = run(False)
    assert len(calls) == 1
    same(plain, run(True))
    assert len(calls) == 2


def test_a_tensor_from_outside_returned_as_it_is():
    W = ad.tensor([1.0, -2.0], requires_grad=True)
    h = W * 3.0
    a, b = checkpoint(lambda t: (t * h, h), ad.tensor([2.0, 5.0], requires_grad=True))
    (a.sum() + (b * b).sum()).backward()
    # d/dW [sum(t * 3W) + sum(9 W^2)] = 3 t + 18 W
    assert np.allclose(W.grad.numpy(), 3 * np.array([2.0, 5.0]) + 18 * W.data)


def test_dropout_draws_the_same_mask_when_recomputed():
    model = mlp(np.float64, p=0.5)
    x = ad.tensor(np.random.default_rng(4).normal(size=(6, 5)), requires_grad=True)

    def seeded(run):
        def go(m, t):
            ad.manual_seed(7)
            return run(m, t)
        return go

    plain = grads_of(model, x, seeded(lambda m, t: m(t)))
    after_plain = ad.get_rng_state()
    same(plain, grads_of(model, x, seeded(blocks)))
    # the recomputation leaves the generator where the plain run left it
    assert ad.get_rng_state() == after_plain
    # without preserve_rng_state the recomputation draws new masks: other gradients
    other = grads_of(model, x, seeded(lambda m, t: checkpoint(m, t, preserve_rng_state=False)))
    assert not all(np.array_equal(u, v) for u, v in zip(plain, other))


def test_create_graph_through_a_checkpoint_gives_the_plain_second_derivatives():
    rng = np.random.default_rng(5)
    W = ad.tensor(rng.normal(size=(3, 3)), requires_grad=True)
    x = ad.tensor(rng.normal(size=(2, 3)), requires_grad=True)
    f = lambda t: ((t @ W).tanh() @ W).sin()  # noqa: E731

    def run(use):
        W.grad = x.grad = None
        y = (checkpoint(f, x) if use else f(x)).sum()
        gx, gW = ad.gradients(y, [x, W], create_graph=True)
        ((gx ** 2).sum() + (gW * gW.sin()).sum()).backward()
        return [x.grad.numpy(), W.grad.numpy()]

    same(run(False), run(True))


def test_gradcheck_and_gradgradcheck_through_a_checkpoint():
    W = ad.tensor(np.random.default_rng(6).normal(size=(3, 2)), requires_grad=True)
    f = lambda t, s: checkpoint(lambda a, b: ((a @ W) * b).tanh(), t, s)  # noqa: E731
    x = ad.tensor(np.random.default_rng(7).normal(size=(2, 3)), requires_grad=True)
    s = ad.tensor(np.random.default_rng(8).normal(size=(2, 2)), requires_grad=True)
    assert gradcheck(f, x, s, modes=("rev", "fwd"))
    assert gradgradcheck(f, x, s)
    assert gradcheck(lambda w: checkpoint(lambda a: (a @ w).tanh(), x), W)


def test_backward_twice_with_retain_graph_and_once_without():
    x = ad.tensor([0.5, 1.5], requires_grad=True)
    y = checkpoint(lambda t: (t * t).sin(), x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    assert np.array_equal(x.grad.numpy(), 2 * first)
    with pytest.raises(RuntimeError, match="'checkpoint' a second time"):
        y.backward()


def test_checkpoint_inside_checkpoint_recomputes_each_level():
    runs = {"inner": 0, "outer": 0}
    W = ad.tensor([[0.3, -0.2], [0.1, 0.4]], requires_grad=True)

    def inner(t):
        runs["inner"] += 1
        return (t @ W).tanh()

    def outer(t):
        runs["outer"] += 1
        return checkpoint(inner, t.exp()) * t

    x = ad.tensor([[1.0, 2.0]], requires_grad=True)
    checkpoint(outer, x).sum().backward()
    ckpt = [x.grad.numpy().copy(), W.grad.numpy().copy()]
    assert runs == {"inner": 3, "outer": 2}  # forward, the outer's recomputation, the inner's
    x.grad = W.grad = None
    outer(x).sum().backward()
    same([x.grad.numpy(), W.grad.numpy()], ckpt)


def test_writing_an_input_in_place_before_the_backward_raises():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    c = ad.tensor([3.0, 4.0])  # a constant argument: the recomputation would read new values
    y = checkpoint(lambda t, k: (t * k).sin(), x, c).sum()
    c[0] = 10.0
    with pytest.raises(RuntimeError, match=r"'checkpoint'.*modified in place"):
        y.backward()


def test_a_parameter_updated_before_the_backward_raises():
    model = mlp(np.float64, depth=1)
    y = checkpoint(model, ad.tensor(np.ones((1, 5)), requires_grad=True)).sum()
    with ad.no_grad():
        model[0].weight -= 0.1
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_a_function_that_writes_its_argument_in_place_is_refused():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"checkpoint: .* wrote its tensor argument 0"):
        checkpoint(lambda t: t.add_(1.0), x * 1.0)


def test_a_function_that_computes_something_else_when_run_again_raises():
    shapes = iter([(2,), (3,)])
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = checkpoint(lambda t: (t * 2.0).sum() * ad.ones(next(shapes), dtype=np.float64), x)
    with pytest.raises(RuntimeError, match=r"recomputed output 0 as shape \(3,\).*\(2,\)"):
        y.sum().backward()


def test_under_no_grad_it_is_the_call():
    calls = []
    x = ad.tensor([1.0], requires_grad=True)
    with ad.no_grad():
        y = checkpoint(lambda t: calls.append(1) or t * 2.0, x)
    assert calls == [1] and y.grad_fn is None and not y.requires_grad


def test_nothing_requires_grad_gives_the_call_result():
    y = checkpoint(lambda t: t * 2.0, ad.tensor([1.0]))
    assert y.grad_fn is None and y.numpy().tolist() == [2.0]


def test_forward_mode_and_the_pure_transforms_through_a_checkpoint():
    W = ad.tensor([[0.3, -0.2], [0.1, 0.4]], requires_grad=True)
    f = lambda t: ((t @ W).tanh() * t).sum(axis=1)  # noqa: E731
    x = ad.tensor([[1.0, 2.0], [0.5, -1.0]])
    v = ad.tensor([[0.1, 0.2], [0.3, 0.4]])
    plain = ad.jvp(f, (x,), (v,))
    ckpt = ad.jvp(lambda t: checkpoint(f, t), (x,), (v,))
    same([p.data for p in plain], [c.data for c in ckpt])
    g = ad.grad(lambda w: (checkpoint(lambda t: (t @ w).tanh(), x)).sum())(W)
    g_plain = ad.grad(lambda w: (x @ w).tanh().sum())(W)
    assert np.array_equal(g.data, g_plain.data) and W.grad is None
    assert np.array_equal(ad.hessian(lambda t: checkpoint(f, t).sum())(x).data,
                          ad.hessian(lambda t: f(t).sum())(x).data)


def test_checkpoint_sequential_gives_the_plain_gradients():
    model = mlp(np.float64, depth=5)  # 10 modules
    x = ad.tensor(np.random.default_rng(9).normal(size=(2, 5)), requires_grad=True)
    plain = grads_of(model, x, lambda m, t: m(t))
    for segments in (1, 2, 3, 10):
        same(plain, grads_of(model, x, lambda m, t, s=segments: checkpoint_sequential(m, s, t)))
    same(plain, grads_of(model, x, lambda m, t: checkpoint_sequential(list(m), 4, t)))
    y = checkpoint_sequential(model, 3, x)  # segments of 3: nodes for the first two only
    kinds = []
    node = y.grad_fn
    while node is not None:
        kinds.append(node.op_name())
        edge = node._edges[0]
        node = edge[0] if type(edge) is tuple else None
    assert kinds.count("checkpoint") == 2


def test_checkpoint_sequential_arguments_are_checked():
    x = ad.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="segments must be an integer from 1 to the number of "
                                         r"functions \(2\), got 3"):
        checkpoint_sequential([ad.sin, ad.cos], 3, x)
    with pytest.raises(ValueError, match="unexpected keyword arguments: debug"):
        checkpoint_sequential([ad.sin, ad.cos], 1, x, debug=True)
    with pytest.raises(TypeError, match="use_reentrant must be None, True or False"):
        checkpoint(ad.sin, x, use_reentrant="yes")


def test_deep_mlp_holds_less_memory_with_checkpoints():
    import tracemalloc

    width, depth = 64, 16
    model = mlp(np.float64, depth=depth, width=width)
    x = ad.tensor(np.random.default_rng(0).normal(size=(1024, width)))

    def peak(run):
        model.zero_grad()
        tracemalloc.start()
        run().sum().backward()
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return top

    plain = peak(lambda: model(x))
    ckpt = peak(lambda: checkpoint_sequential(model, 4, x))
    assert ckpt < 0.6 * plain, (ckpt, plain)


def test_a_tensor_passed_by_keyword_gets_its_gradient():
    w = ad.tensor([2.0, 3.0], requires_grad=True)
    x = ad.tensor([1.0, -1.0], requires_grad=True)
    checkpoint(lambda t, *, scale: (t * scale).sin(), x, scale=w).sum().backward()
    assert np.allclose(w.grad.numpy(), np.cos([2.0, -3.0]) * [1.0, -1.0])
    assert np.allclose(x.grad.numpy(), np.cos([2.0, -3.0]) * [2.0, 3.0])


def test_an_enclosing_observe_ops_still_sees_the_ops_inside():
    seen = []
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with ad.observe_ops(lambda node, args, kwargs: seen.append(node.op_name())):
        checkpoint(lambda t: (t * 2.0).exp(), x)
    assert seen == ["mul", "exp", "checkpoint"]


def test_inline_records_the_functions_own_ops_on_this_thread_only():
    import threading

    model = mlp(np.float64)
    x = ad.tensor(np.ones((2, 5)), requires_grad=True)
    other = []
    with ad.checkpoint.inline():
        y = checkpoint(model, x)
        worker = threading.Thread(target=lambda: other.append(checkpoint(model, x)))
        worker.start()
        worker.join()
    assert y.grad_fn.op_name() != "checkpoint"  # the model's last op, the plain call's graph
    assert other[0].grad_fn.op_name() == "checkpoint"  # another thread is not inlined
    assert checkpoint(model, x).grad_fn.op_name() == "checkpoint"  # undone on exit
    x.grad = None
    y.sum().backward()  # the plain graph: no recomputation, the plain gradients
    inlined = [p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()]
    same(grads_of(model, x, lambda m, t: m(t)), inlined)
