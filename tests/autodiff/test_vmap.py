"""vmap: against the written-out loop and closed forms everywhere, against torch.func.vmap
where PyTorch is installed (values and gradients through the stacked outputs)."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import autodiff as ad
from autodiff.pytree import flatten

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
W = RNG.standard_normal(4)


def t64(a):
    return ad.tensor(a, dtype="float64")


# -- values and gradients, by hand -------------------------------------------------------------

def test_the_result_is_the_loop_stacked():
    out = ad.vmap(lambda x, w: (x * w).sin().sum(), in_dims=(0, None))(t64(X), t64(W))
    assert out.shape == (3,)
    np.testing.assert_allclose(out.data, np.sin(X * W).sum(axis=1), rtol=1e-12)


def test_in_dims_pick_the_axis_negative_counts_from_the_end():
    x = t64(X)  # (3, 4): map over the 4 columns
    for d in (1, -1):
        out = ad.vmap(lambda c: c * ad.arange(3, dtype="float64"), in_dims=d)(x)
        np.testing.assert_array_equal(out.data, X.T * np.arange(3))


def test_out_dims_pick_where_the_batch_axis_goes():
    x = t64(X)
    np.testing.assert_array_equal(ad.vmap(lambda r: r * 2, out_dims=1)(x).data, (X * 2).T)
    np.testing.assert_array_equal(ad.vmap(lambda r: r * 2, out_dims=-1)(x).data, (X * 2).T)
    a, s = ad.vmap(lambda r: (r[:, None] * r, r.sum()), out_dims=(2, 0))(x)
    assert a.shape == (4, 4, 3) and s.shape == (3,)
    np.testing.assert_allclose(a.data[..., 1], np.outer(X[1], X[1]))


def test_tree_arguments_and_outputs():
    params = {"w": t64(W), "xs": (t64(X), t64(X.T))}
    out = ad.vmap(lambda p: {"y": p["xs"][0] @ p["w"], "z": [p["xs"][1] * 2]},
                  in_dims=({"w": None, "xs": (0, 1)},))(params)
    assert list(out) == ["y", "z"] and isinstance(out["z"], list)
    np.testing.assert_allclose(out["y"].data, X @ W)
    np.testing.assert_array_equal(out["z"][0].data, X * 2)
    with pytest.raises(ValueError, match=r"got 3 for argument 0 \(leaf 1 of its dict\), 4 for "
                       r"argument 0 \(leaf 2 of its dict\)"):
        ad.vmap(lambda p: p["w"], in_dims=({"w": None, "xs": (0, 0)},))(params)


def test_non_tensor_arguments_with_in_dim_none_and_keywords_pass_unmapped():
    out = ad.vmap(lambda x, n, scale=None: x * n + scale, in_dims=(0, None))(
        t64(X), 3, scale=t64(W))
    np.testing.assert_array_equal(out.data, X * 3 + W)


def test_nested_vmap_maps_both_axes():
    out = ad.vmap(ad.vmap(lambda a, b: a * b, in_dims=(0, None)), in_dims=(None, 0))(
        t64(X[0]), t64(W))
    np.testing.assert_array_equal(out.data, np.outer(W, X[0]))


def test_gradients_flow_back_through_vmap_as_through_the_loop():
    x, w = t64(X).requires_grad_(), t64(W).requires_grad_()
    (ad.vmap(lambda r, v: ((r * v).tanh() ** 2).sum(), in_dims=(0, None))(x, w)
     * t64([1.0, -2.0, 0.5])).sum().backward()
    x2, w2 = t64(X).requires_grad_(), t64(W).requires_grad_()
    sum(((x2[i] * w2).tanh() ** 2).sum() * c for i, c in enumerate([1.0, -2.0, 0.5])).backward()
    np.testing.assert_allclose(x.grad.data, x2.grad.data, rtol=1e-12)
    np.testing.assert_allclose(w.grad.data, w2.grad.data, rtol=1e-12)


def test_gradcheck_and_gradgradcheck_through_vmap_in_both_modes():
    from autodiff.testing import gradcheck, gradgradcheck
    f = ad.vmap(lambda r, v: (r * v).sin() * r.sum(), in_dims=(1, None), out_dims=1)
    x, w = t64(X[:, :3]).requires_grad_(), t64(W[:3]).requires_grad_()
    assert gradcheck(f, x, w, modes=("rev", "fwd"))
    assert gradgradcheck(f, x, w, modes=("rev", "fwd"))


def test_per_sample_gradients_with_aux():
    g, aux = ad.vmap(ad.grad(lambda w, xi: ((xi @ w) ** 2, xi @ w), has_aux=True),
                     in_dims=(None, 0))(t64(W), t64(X))
    np.testing.assert_allclose(aux.data, X @ W, rtol=1e-12)
    np.testing.assert_allclose(g.data, 2 * (X @ W)[:, None] * X, rtol=1e-12)


def test_per_sample_gradients_of_a_linear_model_match_the_closed_form():
    x, y = t64(X), t64(RNG.standard_normal(3))
    params = {"w": t64(W), "b": t64(0.5)}

    def loss(p, xi, yi):
        return (xi @ p["w"] + p["b"] - yi) ** 2

    g = ad.vmap(ad.grad(loss), in_dims=(None, 0, 0))(params, x, y)
    r = X @ W + 0.5 - y.data  # residual per sample
    np.testing.assert_allclose(g["w"].data, 2 * r[:, None] * X, rtol=1e-12)
    np.testing.assert_allclose(g["b"].data, 2 * r, rtol=1e-12)
    # their mean is the gradient of the mean loss
    full = ad.grad(lambda p: ((x @ p["w"] + p["b"] - y) ** 2).mean())(params)
    np.testing.assert_allclose(g["w"].data.mean(axis=0), full["w"].data, rtol=1e-12)


def test_vmap_of_a_pullback_is_the_jacobian():
    x = t64(W)
    _, pullback = ad.vjp(lambda a: a.sin() * a.sum(), x)
    rows = ad.vmap(pullback)(t64(np.eye(4)))[0]
    np.testing.assert_allclose(rows.data, ad.jacobian(lambda a: a.sin() * a.sum())(x).data,
                               rtol=1e-12)


def test_chunk_size_changes_nothing():
    f = lambda r: (r.exp() * r).sum()  # noqa: E731
    for c in (None, 1, 2, 7):
        np.testing.assert_array_equal(ad.vmap(f, chunk_size=c)(t64(X)).data,
                                      ad.vmap(f)(t64(X)).data)


def test_an_in_place_write_into_a_mapped_argument_writes_through():
    x = t64(X)
    ad.vmap(lambda r: r.add_(1.0))(x)
    np.testing.assert_array_equal(x.data, X + 1)


def test_an_in_place_write_into_a_tensor_made_inside_f_is_fine():
    def f(r):
        h = r * 2
        h += 1
        return h
    np.testing.assert_array_equal(ad.vmap(f)(t64(X)).data, X * 2 + 1)


# -- randomness ---------------------------------------------------------------------------------

def test_randomness_error_refuses_a_draw():
    with pytest.raises(RuntimeError, match=r"drew random numbers.*'different'"):
        ad.vmap(lambda r: r + ad.randn(4))(t64(X))
    with pytest.raises(RuntimeError, match="drew random numbers"):  # a draw inside a vmap
        ad.vmap(ad.vmap(lambda a: a * ad.rand(), randomness="different"))(t64(X))


def test_randomness_different_draws_per_sample_and_same_draws_once():
    ad.manual_seed(5)
    diff = ad.vmap(lambda r: r * 0 + ad.randn(4), randomness="different")(t64(X))
    ad.manual_seed(5)
    np.testing.assert_array_equal(diff.data, ad.randn(3, 4).data)  # three draws in turn
    ad.manual_seed(5)
    same = ad.vmap(lambda r: r * 0 + ad.randn(4), randomness="same")(t64(X))
    after = ad.randn(2)
    ad.manual_seed(5)
    one = ad.randn(4)
    np.testing.assert_array_equal(same.data, np.tile(one.data, (3, 1)))
    np.testing.assert_array_equal(after.data, ad.randn(2).data)  # the generator moved once


# -- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("call,error,match", [
    (lambda: ad.vmap(lambda a, b: a + b)(t64(X), t64(np.ones((4, 4)))), ValueError,
     "agree on the batch size, got 3 for argument 0, 4 for argument 1"),
    (lambda: ad.vmap(lambda a: a, in_dims=2)(t64(X)), ValueError,
     r"in_dim 2 for argument 0 of shape \(3, 4\); it must satisfy -2 <= in_dim < 2"),
    (lambda: ad.vmap(lambda a: a, in_dims=-3)(t64(X)), ValueError, r"in_dim -3 for argument 0"),
    (lambda: ad.vmap(lambda a: a)(t64(1.0)), ValueError, r"shape \(\); it must satisfy 0 <="),
    (lambda: ad.vmap(lambda a, b: a * b)(t64(X), 2.0), ValueError,
     "argument 1, of type float; only Tensors are mapped, give it in_dim None"),
    (lambda: ad.vmap(lambda a: a, in_dims=(None,))(t64(X)), ValueError,
     "at least one input must be mapped"),
    (lambda: ad.vmap(lambda a: a, in_dims=None), ValueError, "in_dims must be an int or a tuple"),
    (lambda: ad.vmap(lambda a: a, in_dims=[0]), ValueError, "in_dims must be an int or a tuple"),
    (lambda: ad.vmap(lambda a: a, in_dims=0.0), ValueError, "in_dims must be an int or a tuple"),
    (lambda: ad.vmap(lambda a: a, out_dims="0"), ValueError, "out_dims must be an int or"),
    (lambda: ad.vmap(lambda a, b: a, in_dims=(0,))(t64(X), t64(X)), ValueError,
     r"in_dims \(0,\) does not match the structure of the arguments \('\*', '\*'\)"),
    (lambda: ad.vmap(lambda d: d["a"], in_dims=({"a": 0},))({"a": t64(X), "b": t64(W)}),
     ValueError, "does not match the structure"),
    (lambda: ad.vmap(lambda a: a, in_dims=("a",))(t64(X)), ValueError,
     "each entry of in_dims must be an int or None, got 'a'"),
    (lambda: ad.vmap(lambda a: 1.0)(t64(X)), ValueError, "must return Tensors.*got float"),
    (lambda: ad.vmap(lambda a: (a, "s"))(t64(X)), ValueError, "got str inside a tuple"),
    (lambda: ad.vmap(lambda a: (a,) if a[0] > 0 else [a])(t64([[1.0], [-1.0]])), ValueError,
     r"\['\*'\] for sample 1 but another structure"),
    (lambda: ad.vmap(lambda a: a[: int(a[0].item())])(t64([[1.0, 0], [2.0, 0]])), ValueError,
     r"output 0 has different shapes for different samples: \[\(1,\), \(2,\)\]"),
    (lambda: ad.vmap(lambda a: a, out_dims=2)(t64(X)), ValueError,
     r"out_dim 2 for output 0 of per-sample shape \(4,\); it must satisfy -2 <= out_dim <= 1"),
    (lambda: ad.vmap(lambda a: (a, a), out_dims=(0, 1, 0))(t64(X)), ValueError,
     "out_dims .* does not match the structure of the outputs"),
    (lambda: ad.vmap(lambda a: a, out_dims=(None,))(t64(X)), ValueError,
     "does not match"),
    (lambda: ad.vmap(lambda a: (a, a), out_dims=(0, None))(t64(X)), ValueError,
     "out_dims None for output 1"),
    (lambda: ad.vmap(lambda a: a)(t64(np.ones((0, 2)))), ValueError, "the batch size is 0"),
    (lambda: ad.vmap(lambda a: a, chunk_size=0), ValueError, "chunk_size must be None or a "
     "positive int, got 0"),
    (lambda: ad.vmap(lambda a: a, chunk_size=-1), ValueError, "got -1"),
    (lambda: ad.vmap(lambda a: a, chunk_size=True), ValueError, "got True"),
    (lambda: ad.vmap(lambda a: a, randomness="foo"), ValueError,
     "randomness must be 'error', 'different' or 'same', got 'foo'"),
])
def test_errors_name_the_argument_and_the_values(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_an_in_place_write_into_a_captured_tensor_raises():
    buf = t64(np.zeros(4))
    with pytest.raises(RuntimeError, match=r"wrote in place into a tensor of shape \(4,\) that "
                       "it closes over"):
        ad.vmap(lambda r: buf.add_(r))(t64(X))
    assert buf.tolist() == X[0].tolist()  # written once, for the first sample, as said
    with pytest.raises(RuntimeError, match="wrote in place"):  # unbatched: still refused
        ad.vmap(lambda r: (buf.add_(1.0), r)[1])(t64(X))
    with pytest.raises(RuntimeError, match="wrote in place"):  # through a nested function
        ad.vmap(lambda r: (lambda: buf.mul_(2.0))() * r)(t64(X))
    with pytest.raises(RuntimeError, match="wrote in place"):  # a partial's argument
        ad.vmap(functools.partial(lambda r, b: b.sub_(r), b=buf))(t64(X))
    with pytest.raises(RuntimeError, match="wrote in place"):  # an argument with in_dim None
        ad.vmap(lambda r, b: b.sub_(r), in_dims=(0, None))(t64(X), t64(np.zeros(4)))


# -- against torch.func.vmap -------------------------------------------------------------------

def _cases():
    y = RNG.standard_normal((3, 4))
    return [
        ("in_dims 0", lambda m: lambda a: a * 2 + a.sin(), (X,), 0, 0),
        ("in_dims 1", lambda m: lambda a: (a ** 2).sum(), (X,), 1, 0),
        ("in_dims -1", lambda m: lambda a: a.cos(), (X,), -1, 0),
        ("broadcast", lambda m: lambda a, b: a @ b, (X, W), (0, None), 0),
        ("broadcast first", lambda m: lambda a, b: a * b, (W, X.T.copy()), (None, 1), 0),
        ("two mapped", lambda m: lambda a, b: (a * b).sum(), (X, y), (0, 0), 0),
        ("two axes", lambda m: lambda a, b: a - b, (X, y.T.copy()), (0, 1), 0),
        ("tuple arg", lambda m: lambda p: p[0] * p[1], ((X, W),), ((0, None),), 0),
        ("dict arg", lambda m: lambda p: p["a"].exp() + p["b"], ({"a": X, "b": y.T.copy()},),
         ({"a": 0, "b": 1},), 0),
        ("out_dims 1", lambda m: lambda a: a[:, None] * a, (X,), 0, 1),
        ("out_dims -1", lambda m: lambda a: a[:, None] * a, (X,), 0, -1),
        ("out tree", lambda m: lambda a: (a * 3, a.sum()), (X,), 0, (1, 0)),
        ("out list", lambda m: lambda a: [a.tanh(), a.max()], (X,), 0, 0),
        ("out dict", lambda m: lambda a: {"s": a.sum(), "p": a.prod()}, (X,), 0, 0),
        ("nested", lambda m: m.vmap(lambda a, b: a * b, in_dims=(0, None)), (X, W), (1, None),
         1),
        ("nested same", lambda m: m.vmap(lambda a: a.sum() * a), (X.reshape(3, 2, 2),), 0, 0),
        ("grad", lambda m: _grad(m)(lambda w, a: (a @ w).sin()), (W, X), (None, 0), 0),
    ]


def _grad(m):
    return m.grad if hasattr(m, "grad") else m.func.grad


class _TorchFunc:
    def __init__(self, torch):
        self.func = torch.func
        self.vmap = torch.func.vmap


@pytest.mark.parametrize("name,make,args,in_dims,out_dims", _cases(),
                         ids=[c[0] for c in _cases()])
def test_matches_torch_func_vmap(name, make, args, in_dims, out_dims):
    torch = pytest.importorskip("torch", reason="compares with torch.func.vmap")
    leaves, rebuild = flatten(args)
    ours = [t64(a).requires_grad_() for a in leaves]
    theirs = [torch.tensor(a, requires_grad=True) for a in leaves]
    out = ad.vmap(make(ad), in_dims, out_dims)(*rebuild(ours))
    ref = torch.func.vmap(make(_TorchFunc(torch)), in_dims, out_dims)(*rebuild(theirs))
    outs, refs = flatten(out)[0], flatten(ref)[0]
    assert flatten(out)[1](["*"] * len(outs)) == flatten(ref)[1](["*"] * len(refs))
    for o, r in zip(outs, refs):
        assert o.shape == tuple(r.shape)
        np.testing.assert_allclose(o.data, r.detach().numpy(), rtol=1e-12, atol=1e-14)
    # a weighted sum of the outputs: the gradients with respect to every input
    weights = [RNG.standard_normal(o.shape) for o in outs]
    sum((o * t64(c)).sum() for o, c in zip(outs, weights)).backward()
    sum((r * torch.tensor(c)).sum() for r, c in zip(refs, weights)).backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_per_sample_gradients_match_torch_func():
    torch = pytest.importorskip("torch", reason="compares with torch.func")
    w1, w2 = RNG.standard_normal((4, 5)), RNG.standard_normal(5)
    y = RNG.standard_normal(3)

    def loss(m, p, x, t):
        return ((x @ p["w1"]).tanh() @ p["w2"] - t) ** 2

    ours = ad.vmap(ad.grad(lambda *a: loss(ad, *a)), in_dims=(None, 0, 0))(
        {"w1": t64(w1), "w2": t64(w2)}, t64(X), t64(y))
    theirs = torch.func.vmap(torch.func.grad(lambda *a: loss(torch, *a)), in_dims=(None, 0, 0))(
        {"w1": torch.tensor(w1), "w2": torch.tensor(w2)}, torch.tensor(X), torch.tensor(y))
    for k in ("w1", "w2"):
        assert ours[k].shape == tuple(theirs[k].shape) == (3, *{"w1": w1, "w2": w2}[k].shape)
        np.testing.assert_allclose(ours[k].data, theirs[k].numpy(), rtol=1e-12)


def test_an_in_place_write_into_a_mapped_argument_matches_torch():
    torch = pytest.importorskip("torch", reason="compares with torch.func.vmap")
    x, tx = t64(X), torch.tensor(X)
    ad.vmap(lambda r: r.mul_(2.0))(x)
    torch.func.vmap(lambda r: r.mul_(2.0))(tx)
    np.testing.assert_array_equal(x.data, tx.numpy())


def test_a_bound_method_or_a_partial_maps_like_a_function():
    class Scale:
        def __init__(self, w):
            self.w = w

        def __call__(self, r):
            return r * self.w

    s = Scale(t64(W))
    np.testing.assert_array_equal(ad.vmap(s.__call__)(t64(X)).data, X * W)
    np.testing.assert_array_equal(ad.vmap(s)(t64(X)).data, X * W)
    f = functools.partial(lambda r, v: r @ v, v=t64(W))
    np.testing.assert_allclose(ad.vmap(f)(t64(X)).data, X @ W)
