"""The course's layer formulas fall out of reverse mode.

For layer l with Z = W A_prev + b (W of shape (n_l, n_{l-1}), m examples in columns), A = g(Z)
and the cost J = (1/m) * sum of per-example losses, the course writes, with dA the derivative
of the per-example loss with respect to A:

    dZ      = dA * g'(Z)
    dW      = (1/m) dZ A_prev^T
    db      = (1/m) sum(dZ, axis=1, keepdims=True)
    dA_prev = W^T dZ            (per example: the engine's dJ/dA_prev is (1/m) W^T dZ)

The engine is never told these formulas; it only records the forward pass.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff as ad

ACTIVATIONS = {
    "tanh": (ad.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "sigmoid": (ad.sigmoid, lambda z: (1 / (1 + np.exp(-z))) * (1 - 1 / (1 + np.exp(-z)))),
    "relu": (ad.relu, lambda z: (z > 0).astype(z.dtype)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("g_name", list(ACTIVATIONS))
@given(n_prev=st.integers(1, 5), n_l=st.integers(1, 5), m=st.integers(1, 6),
       seed=st.integers(0, 2**16))
def test_one_layer(g_name, dtype, n_prev, n_l, m, seed):
    g, g_prime = ACTIVATIONS[g_name]
    rng = np.random.default_rng(seed)
    W = ad.tensor(rng.standard_normal((n_l, n_prev)).astype(dtype), requires_grad=True)
    b = ad.tensor(rng.standard_normal((n_l, 1)).astype(dtype), requires_grad=True)
    A_prev = ad.tensor(rng.standard_normal((n_prev, m)).astype(dtype), requires_grad=True)
    V = rng.standard_normal((n_l, m)).astype(dtype)  # per-example loss L_i = V[:, i] . A[:, i]

    Z = W @ A_prev + b
    A = g(Z)
    J = (A * V).sum() / m  # the mean over examples of the per-example losses
    J.backward()

    Zd = Z.data.astype(np.float64)
    dA = V.astype(np.float64)  # dL/dA, per example
    dZ = dA * g_prime(Zd)
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12}
    np.testing.assert_allclose(W.grad.data, (1 / m) * dZ @ A_prev.data.T, **tol)
    np.testing.assert_allclose(b.grad.data, (1 / m) * dZ.sum(axis=1, keepdims=True), **tol)
    np.testing.assert_allclose(m * A_prev.grad.data, W.data.T @ dZ, **tol)
    assert W.grad.dtype == dtype and b.grad.dtype == dtype


@pytest.mark.parametrize("g_name", list(ACTIVATIONS))
@given(n_x=st.integers(1, 4), n_h=st.integers(1, 5), m=st.integers(1, 6),
       seed=st.integers(0, 2**16))
def test_two_layer_network_with_cross_entropy(g_name, n_x, n_h, m, seed):
    """Hidden layer g, output sigmoid, binary cross-entropy: dZ2 = A2 - Y, then back."""
    g, g_prime = ACTIVATIONS[g_name]
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    Y = (rng.random((1, m)) > 0.5).astype(np.float64)
    W1 = ad.tensor(rng.standard_normal((n_h, n_x)), requires_grad=True)
    b1 = ad.tensor(rng.standard_normal((n_h, 1)), requires_grad=True)
    W2 = ad.tensor(rng.standard_normal((1, n_h)), requires_grad=True)
    b2 = ad.tensor(rng.standard_normal((1, 1)), requires_grad=True)

    Z1 = W1 @ ad.tensor(X) + b1
    A1 = g(Z1)
    Z2 = W2 @ A1 + b2
    A2 = ad.sigmoid(Z2)
    J = -(Y * ad.log(A2) + (1 - Y) * ad.log(1 - A2)).sum() / m
    J.backward()

    dZ2 = A2.data - Y
    dW2 = dZ2 @ A1.data.T / m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dA1 = W2.data.T @ dZ2
    dZ1 = dA1 * g_prime(Z1.data)
    dW1 = dZ1 @ X.T / m
    db1 = dZ1.sum(axis=1, keepdims=True) / m
    for t, expected in [(W2, dW2), (b2, db2), (W1, dW1), (b1, db1)]:
        np.testing.assert_allclose(t.grad.data, expected, rtol=1e-7, atol=1e-9)
