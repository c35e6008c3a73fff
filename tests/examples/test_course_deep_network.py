"""The course's L-layer network learns breast cancer (seeded, so the figures are stable)."""

import numpy as np

import autodiff as ad
import nn


def test_course_deep_network_learns_breast_cancer(load_example, capsys):
    result = load_example("course_deep_network").main(["--epochs", "60", "--print-every", "0"])
    assert result.test_accuracy > 0.93 and result.train_accuracy > 0.95
    assert "[30, 20, 7, 5, 1]" in capsys.readouterr().out


def test_course_deep_network_full_batch_with_dropout_and_decay(load_example):
    result = load_example("course_deep_network").main(
        ["--iterations", "40", "--batch-size", "0", "--dropout", "0.1", "--decay-rate", "0.01",
         "--lr", "0.1", "--print-every", "0"])
    assert result.test_accuracy > 0.9


def course_step(params, v, X, Y, lr, beta, lambd):
    """The course's formulas in NumPy, examples in columns: forward, backward with L2 on the
    weights, momentum as an exponentially weighted average. params: [(W, b)] per layer."""
    m = X.shape[1]
    A, cache = X, []
    for i, (W, b) in enumerate(params):
        Z = W @ A + b[:, None]
        cache.append((A, Z))
        A = 1 / (1 + np.exp(-Z)) if i == len(params) - 1 else np.maximum(Z, 0)
    dZ = A - Y  # sigmoid + cross-entropy
    grads = []
    for i in reversed(range(len(params))):
        W, _ = params[i]
        A_prev, Z = cache[i]
        dW = dZ @ A_prev.T / m + lambd / m * W
        db = dZ.sum(axis=1) / m
        grads.insert(0, (dW, db))
        if i:
            dZ = (W.T @ dZ) * (cache[i - 1][1] > 0)
    out = []
    for (W, b), (dW, db), (vW, vb) in zip(params, grads, v):
        vW, vb = beta * vW + (1 - beta) * dW, beta * vb + (1 - beta) * db
        out.append(((W - lr * vW, b - lr * vb), (vW, vb)))
    return [p for p, _ in out], [w for _, w in out]


def test_the_examples_updates_are_the_course_formulas(load_example):
    """Four full-batch steps of the example's model and optimizer (float64) equal the course's
    formulas written by hand: dW = (1/m) dZ A_prev^T + (lambd/m) W, db = (1/m) sum dZ,
    v = beta v + (1 - beta) dW, W = W - lr v."""
    ex = load_example("course_deep_network")
    before = ad.get_default_dtype()
    ad.set_default_dtype(np.float64)
    try:
        ad.manual_seed(0)
        model = ex.build(6, [5, 3], dropout=0.0)
    finally:
        ad.set_default_dtype(before)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 6))
    y = (rng.random((12, 1)) > 0.5).astype(np.float64)
    lr, beta, lambd = 0.3, 0.8, 0.7
    opt = ex.make_optimizer(model, lr, beta, lambd, m=12)
    linears = [mod for mod in model.modules() if isinstance(mod, nn.Linear)]
    params = [(lin.weight.data.copy(), lin.bias.data.copy()) for lin in linears]
    v = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    for _ in range(4):
        ex.train_step(model, opt, ad.tensor(X), ad.tensor(y))
        params, v = course_step(params, v, X.T, y.T, lr, beta, lambd)
        for lin, (W, b) in zip(linears, params):
            np.testing.assert_allclose(lin.weight.data, W, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(lin.bias.data, b, rtol=1e-12, atol=1e-14)
    assert lin.weight.dtype == np.float64
