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
