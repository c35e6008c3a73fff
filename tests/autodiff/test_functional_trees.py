"""The transforms on trees (tuples, lists, dicts of Tensors) and with has_aux, against
torch.func where PyTorch is installed and against closed forms everywhere."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad

A = ad.tensor([1.0, 2.0], dtype="float64")
B = ad.tensor([3.0, -1.0], dtype="float64")


def test_the_gradient_of_a_tuple_argument_is_a_tuple_of_its_dtype():
    # Before: the tuple became one stacked float32 tensor of shape (2, 2).
    ga, gb = ad.grad(lambda p: (p[0] * p[1]).sum())((A, B))
    assert ga.dtype == np.float64 and ga.tolist() == [3.0, -1.0] and gb.tolist() == [1.0, 2.0]
    g = ad.grad(lambda p: (p[0] * p[1]).sum())([A, B])
    assert isinstance(g, list) and len(g) == 2


def test_the_gradient_of_a_dict_of_parameters_is_a_dict():
    params = {"w": A, "inner": (B, {"c": ad.tensor(2.0, dtype="float64")})}

    def loss(p, x):
        return ((p["w"] * x).sum() * p["inner"][1]["c"] + (p["inner"][0] ** 2).sum())

    g = ad.grad(loss)(params, ad.tensor([0.5, 4.0], dtype="float64"))
    assert list(g) == ["w", "inner"] and g["w"].tolist() == [1.0, 8.0]
    assert g["inner"][0].tolist() == [6.0, -2.0] and g["inner"][1]["c"].item() == 8.5


def test_a_closed_over_parameter_in_a_tree_stays_connected():
    w = ad.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    g = ad.grad(lambda p: (p["x"] ** 2 * w).sum())({"x": A})
    assert g["x"].requires_grad  # 2 x w: differentiable with respect to w
    (dw,) = ad.gradients(g["x"].sum(), [w])
    assert dw.tolist() == [2.0, 4.0]


def test_jvp_and_linearize_take_tangents_in_the_primals_structure():
    def f(p):
        return {"prod": p["a"] * p["b"], "sum": (p["a"] + p["b"]).sum()}

    primal = {"a": A, "b": B}
    tangent = {"a": ad.ones(2, dtype="float64"), "b": ad.zeros(2, dtype="float64")}
    out, t = ad.jvp(f, (primal,), (tangent,))
    assert out["prod"].tolist() == [3.0, -2.0] and t["prod"].tolist() == [3.0, -1.0]
    assert t["sum"].item() == 2.0
    _, f_jvp = ad.linearize(f, primal)
    assert f_jvp(tangent)["prod"].tolist() == [3.0, -1.0]
    with pytest.raises(ValueError, match="tangent 0 has 1 leaves but its primal has 2"):
        ad.jvp(f, (primal,), (ad.ones(2),))


def test_vjp_of_a_tuple_output_takes_a_tuple_cotangent():
    out, pullback = ad.vjp(lambda x, y: (x * y, (x ** 2).sum()), A, B)
    assert out[0].tolist() == [3.0, -2.0] and out[1].item() == 5.0
    gx, gy = pullback((ad.ones(2, dtype="float64"), ad.tensor(2.0, dtype="float64")))
    assert gx.tolist() == [3.0 + 4.0, -1.0 + 8.0] and gy.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="cotangent has 1 leaves but the output has 2"):
        pullback(ad.ones(2))


def test_jacobians_of_tuple_outputs_nest_output_then_argument():
    def f(x, y):
        return x * y, (x * x).sum()

    for transform in (ad.jacobian, ad.jacfwd):
        (jxx, jxy), (jsx, jsy) = transform(f, argnums=(0, 1))(A, B)
        assert jxx.tolist() == [[3.0, 0.0], [0.0, -1.0]] and jxy.tolist() == [[1.0, 0.0],
                                                                             [0.0, 2.0]]
        assert jsx.tolist() == [2.0, 4.0] and jsy.tolist() == [0.0, 0.0]


def test_has_aux_hands_the_aux_back_detached_and_untouched():
    def f(x):
        y = x * 3
        return (y ** 2).sum(), {"y": y, "note": "kept"}

    g, aux = ad.grad(f, has_aux=True)(A)
    assert g.tolist() == [18.0, 36.0] and aux["note"] == "kept"
    assert aux["y"].tolist() == [3.0, 6.0] and not aux["y"].requires_grad
    (value, aux), g = ad.value_and_grad(f, has_aux=True)(A)
    assert value.item() == 45.0 and aux["y"].tolist() == [3.0, 6.0]
    _, pullback, aux = ad.vjp(f, A, has_aux=True)
    assert pullback(ad.tensor(1.0, dtype="float64"))[0].tolist() == [18.0, 36.0]
    _, t, aux = ad.jvp(f, (A,), (ad.ones(2, dtype="float64"),), has_aux=True)
    assert t.item() == 54.0 and aux["note"] == "kept"
    for transform in (ad.jacobian, ad.jacfwd):
        j, aux = transform(f, has_aux=True)(A)
        assert j.tolist() == [18.0, 36.0] and aux["y"].tolist() == [3.0, 6.0]


def test_aux_stays_connected_to_an_outer_graph():
    w = ad.tensor(2.0, dtype="float64", requires_grad=True)
    _, aux = ad.grad(lambda x: ((x * w).sum(), x.sum() * w), has_aux=True)(A)
    assert aux.requires_grad and ad.gradients(aux, [w])[0].item() == 3.0


def test_argument_errors_say_what_was_wrong():
    with pytest.raises(TypeError, match="with has_aux=True the function must return a pair"):
        ad.grad(lambda x: x.sum(), has_aux=True)(A)
    with pytest.raises(TypeError, match=r"got tuple \(to return more, pass has_aux=True"):
        ad.grad(lambda x: (x.sum(), x))(A)
    with pytest.raises(TypeError, match=r"argnums must be an int or a tuple of ints, got 1\.0"):
        ad.grad(lambda x: x.sum(), argnums=1.0)(A)
    with pytest.raises(TypeError, match="argnums must be an int or a tuple of ints, got True"):
        ad.grad(lambda x, y: x.sum(), argnums=True)(A, B)  # was read as argnums=1
    with pytest.raises(TypeError, match="primals must be a tuple or list"):
        ad.jvp(lambda x: x, A, A)
    with pytest.raises(TypeError, match="got str inside a tuple"):
        ad.jvp(lambda x: (x, "no"), (A,), (A,))


@pytest.mark.slow  # torch.func's first call costs about 5 s
def test_against_torch_func():
    torch = pytest.importorskip("torch", reason="the comparison needs PyTorch")
    from torch import func

    rng = np.random.default_rng(0)
    p = {"w": rng.standard_normal((3, 2)), "b": (rng.standard_normal(2),)}
    x = rng.standard_normal((4, 3))

    def make(lib):
        act = ad.tanh if lib is ad else torch.tanh

        def f(q, x):
            h = act(x @ q["w"] + q["b"][0])
            return (h ** 2).sum(), h

        return f

    ours = {"w": ad.tensor(p["w"], dtype="float64"),
            "b": (ad.tensor(p["b"][0], dtype="float64"),)}
    theirs = {"w": torch.tensor(p["w"]), "b": (torch.tensor(p["b"][0]),)}
    xo, xt = ad.tensor(x, dtype="float64"), torch.tensor(x)

    def close(a, t):
        assert np.abs(a.data - t.detach().numpy()).max() < 1e-13

    g, aux = ad.grad(make(ad), has_aux=True)(ours, xo)
    gt, auxt = func.grad(make(torch), has_aux=True)(theirs, xt)
    for a, t in ((g["w"], gt["w"]), (g["b"][0], gt["b"][0]), (aux, auxt)):
        close(a, t)

    def h(q, x):
        return make(ad)(q, x)[1]

    def ht(q, x):
        return make(torch)(q, x)[1]

    for ours_t, theirs_t in ((ad.jacobian, func.jacrev), (ad.jacfwd, func.jacfwd)):
        j, jt = ours_t(h, argnums=(0, 1))(ours, xo), theirs_t(ht, argnums=(0, 1))(theirs, xt)
        for a, t in ((j[0]["w"], jt[0]["w"]), (j[0]["b"][0], jt[0]["b"][0]), (j[1], jt[1])):
            close(a, t)
    tw = rng.standard_normal((3, 2))
    tangent = {"w": ad.tensor(tw, dtype="float64"), "b": (ad.zeros(2, dtype="float64"),)}
    tangent_t = {"w": torch.tensor(tw), "b": (torch.zeros(2, dtype=torch.float64),)}
    _, t = ad.jvp(lambda q: h(q, xo), (ours,), (tangent,))
    _, tt = func.jvp(lambda q: ht(q, xt), (theirs,), (tangent_t,))
    close(t, tt)
    v = rng.standard_normal((4, 2))
    _, pullback = ad.vjp(lambda q: h(q, xo), ours)
    _, pullback_t = func.vjp(lambda q: ht(q, xt), theirs)
    (gq,), (gqt,) = pullback(ad.tensor(v, dtype="float64")), pullback_t(torch.tensor(v))
    close(gq["w"], gqt["w"])
    close(gq["b"][0], gqt["b"][0])


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_hessian_with_several_argnums_gives_the_blocks(mode):
    def f(x, y):
        return (x ** 3).sum() + (x[0] * y).sum()

    (hxx, hxy), (hyx, hyy) = ad.hessian(f, argnums=(0, 1), mode=mode)(A, B)
    assert hxx.tolist() == [[6.0, 0.0], [0.0, 12.0]] and hyy.tolist() == [[0.0, 0.0]] * 2
    assert hxy.tolist() == [[1.0, 1.0], [0.0, 0.0]] and hyx.tolist() == [[1.0, 0.0], [1.0, 0.0]]


def test_flatten_keeps_no_leaf_alive_once_its_results_are_dropped():
    """flatten's rebuild was a nested recursive function, a reference cycle holding the list
    of leaves: a flattened tensor lived until the garbage collector ran (a checkpoint's
    recomputed activations stayed in memory through the rest of the backward)."""
    import gc
    import weakref

    from autodiff.pytree import flatten

    t = ad.ones((3,))
    alive = weakref.ref(t)
    gc.disable()
    try:
        leaves, rebuild = flatten({"a": (t, 1.0)})
        assert rebuild(leaves)["a"][0] is t
        del leaves, rebuild, t
        assert alive() is None
    finally:
        gc.enable()
