"""Shape and joining functions (issue 14) beyond the op table's rows: PyTorch's values and
gradients where PyTorch has the op, what NumPy's protocol reaches for functions that take a
list, empty results, memory layouts, and the arguments that are refused.
"""

import numpy as np
import pytest

import autodiff as ad

RNG = np.random.default_rng(0)


def _leaf(shape):
    return ad.tensor(RNG.standard_normal(shape), requires_grad=True)


def _grad(f, x, seed):
    """d/dx of sum(f(x) * seed), as an array."""
    (g,) = ad.gradients([f(x)], [x], grad_outputs=[ad.tensor(seed)])
    return g.data


# -- against PyTorch: values and gradients -----------------------------------------------------

CASES_TORCH = {  # name: (ours on a Tensor, PyTorch's on a torch tensor, input shape)
    "take_along_axis": (lambda x: ad.take_along_axis(x, np.array([[2, 0, 2], [1, 1, 0]]), 1),
                        lambda t, torch: torch.take_along_dim(
                            t, torch.tensor([[2, 0, 2], [1, 1, 0]]), 1), (2, 3)),
    "take": (lambda x: ad.take(x, [[4, 0], [4, 5]]),
             lambda t, torch: torch.take(t, torch.tensor([[4, 0], [4, 5]])), (2, 3)),
}


@pytest.mark.parametrize("name", sorted(CASES_TORCH))
def test_values_and_gradients_match_pytorch(name):
    torch = pytest.importorskip("torch")
    ours, theirs, shape = CASES_TORCH[name]
    x = _leaf(shape)
    y = ours(x)
    t = torch.tensor(x.data, requires_grad=True)
    u = theirs(t, torch)
    np.testing.assert_allclose(y.data, u.detach().numpy(), rtol=1e-12)
    seed = RNG.standard_normal(y.shape)
    (u * torch.tensor(seed)).sum().backward()
    np.testing.assert_allclose(_grad(ours, x, seed), t.grad.numpy(), rtol=1e-12)


def test_sort_gradient_follows_a_stable_permutation_as_pytorch():
    torch = pytest.importorskip("torch")
    data = np.array([[2.0, 1.0, 2.0, 1.0, 0.5], [3.0, 3.0, 3.0, -1.0, 3.0]])
    seed = RNG.standard_normal(data.shape)
    for kind in (None, "quicksort", "heapsort", "stable"):  # ties: the same gradient
        x = ad.tensor(data, requires_grad=True)
        t = torch.tensor(data, requires_grad=True)
        values, _ = torch.sort(t, dim=1, stable=True)
        (values * torch.tensor(seed)).sum().backward()
        np.testing.assert_array_equal(ad.sort(x, axis=1, kind=kind).data, values.detach())
        np.testing.assert_allclose(_grad(lambda x, k=kind: ad.sort(x, axis=1, kind=k), x, seed),
                                   t.grad.numpy())


def test_clip_with_bounds_that_require_grad_matches_pytorchs_clamp():
    torch = pytest.importorskip("torch")
    x = ad.tensor([-2.0, 0.5, 3.0, 0.7, -0.5, 2.0], requires_grad=True)
    lo = ad.tensor([0.0, 0.0, 0.0, 0.8, 0.1, 1.0], requires_grad=True)  # min > max in place 3
    hi = ad.tensor([0.0, 1.0, 1.0, 0.2, 1.0, 3.0], requires_grad=True)  # min == max in place 0
    tx, tlo, thi = (torch.tensor(v.data.astype(np.float64), requires_grad=True)
                    for v in (x, lo, hi))
    for bounds, tbounds in [((lo, hi), (tlo, thi)), ((lo, None), (tlo, None)),
                            ((None, hi), (None, thi))]:
        for v in (x, lo, hi, tx, tlo, thi):
            v.grad = None
        y = ad.clip(x, *bounds)
        u = torch.clamp(tx, *tbounds)
        np.testing.assert_allclose(y.data, u.detach().numpy(), rtol=1e-6)
        y.sum().backward()
        u.sum().backward()
        for ours, theirs in zip((x, *bounds), (tx, *tbounds)):
            if ours is not None:
                np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())


# -- methods --------------------------------------------------------------------------------

def test_tensor_sort_method_is_refused_rather_than_differing_from_numpy_or_pytorch():
    x = ad.tensor([2.0, 1.0])
    with pytest.raises(TypeError, match=r"ndarray.sort sorts in place.*PyTorch.*np.sort\(t\)"):
        x.sort()
    assert x.tolist() == [2.0, 1.0]


# -- refused arguments, errors that name the op -------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda x: ad.take(x, [6]), IndexError, r"take: index 6 is out of bounds for axis 0 with "
                                            r"size 6"),
    (lambda x: ad.take(x, [0], axis=1, out=np.empty((2, 1))), TypeError, "take: out="),
    (lambda x: ad.take(x, [0], mode="nearest"), ValueError, "take: mode must be"),
    (lambda x: ad.take(x, ["a"]), TypeError, "take: indices must be integers"),
    (lambda x: ad.take(x[:, :0], [0], axis=1, mode="wrap"), IndexError, "take: cannot take"),
    (lambda x: ad.take_along_axis(x, np.array([[0.5]]), 1), IndexError,
     "take_along_axis: indices must be an integer array"),
    (lambda x: ad.take_along_axis(x, np.array([0]), 1), ValueError,
     "take_along_axis: indices of shape"),
    (lambda x: ad.take_along_axis(x, np.zeros((2, 2), int), None), ValueError,
     "with axis=None, indices must be 1-D"),
    (lambda x: ad.take_along_axis(x, np.zeros((3, 1), int), 1), IndexError,
     "do not broadcast"),
    (lambda x: ad.sort(x, order="f"), ValueError, "sort: order= applies to structured"),
    (lambda x: ad.sort(x, kind="bogo"), ValueError, "sort kind"),
    (lambda x: ad.sort(ad.tensor(1.0)), np.exceptions.AxisError, "sort: axis -1"),
])
def test_refused_arguments_raise_errors_that_name_the_op(call, error, message):
    x = _leaf((2, 3))
    with pytest.raises(error, match=message):
        call(x)
