"""Each optimizer against its written update rule, step by step, in NumPy."""

import numpy as np
import pytest

import autodiff as ad
import nn

STEPS = 5


def run(make_opt, grads_seq, p0):
    """Apply the optimizer to a parameter with the given gradient sequence."""
    p = ad.tensor(p0.copy(), requires_grad=True)
    opt = make_opt([p])
    out = []
    for g in grads_seq:
        p.grad = ad.tensor(g)
        opt.step()
        out.append(p.data.copy())
    return out


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(4)
    grads = [rng.standard_normal(4) for _ in range(STEPS)]
    return p0, grads


@pytest.mark.parametrize("mu, damp, nesterov, wd", [(0, 0, False, 0), (0.9, 0, False, 0.01),
                                                     (0.9, 0.1, False, 0), (0.9, 0, True, 0.1)])
def test_sgd(problem, mu, damp, nesterov, wd):
    p0, grads = problem
    got = run(lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=mu, dampening=damp,
                                      nesterov=nesterov, weight_decay=wd), grads, p0)
    p, buf = p0.copy(), None
    for g, actual in zip(grads, got):
        g = g + wd * p
        if mu:
            buf = g.copy() if buf is None else mu * buf + (1 - damp) * g
            g = g + mu * buf if nesterov else buf
        p = p - 0.1 * g
        np.testing.assert_allclose(actual, p, rtol=1e-12)


@pytest.mark.parametrize("cls, wd, amsgrad", [(nn.optim.Adam, 0, False), (nn.optim.Adam, 0.1, True),
                                              (nn.optim.AdamW, 0.1, False),
                                              (nn.optim.AdamW, 0.1, True)])
def test_adam_family(problem, cls, wd, amsgrad):
    p0, grads = problem
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    got = run(lambda ps: cls(ps, lr=lr, weight_decay=wd, amsgrad=amsgrad), grads, p0)
    p, m, v, vmax = p0.copy(), 0.0, 0.0, 0.0
    for t, (g, actual) in enumerate(zip(grads, got), start=1):
        if cls is nn.optim.AdamW:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        vv = vmax if amsgrad else v
        p = p - lr * (m / (1 - b1 ** t)) / (np.sqrt(vv / (1 - b2 ** t)) + eps)
        np.testing.assert_allclose(actual, p, rtol=1e-10)


@pytest.mark.parametrize("mu, centered", [(0, False), (0.9, True)])
def test_rmsprop(problem, mu, centered):
    p0, grads = problem
    lr, a, eps = 0.01, 0.99, 1e-8
    got = run(lambda ps: nn.optim.RMSprop(ps, lr=lr, momentum=mu, centered=centered), grads, p0)
    p, v, ga, b = p0.copy(), 0.0, 0.0, 0.0
    for g, actual in zip(grads, got):
        v = a * v + (1 - a) * g * g
        if centered:
            ga = a * ga + (1 - a) * g
            avg = np.sqrt(v - ga * ga) + eps
        else:
            avg = np.sqrt(v) + eps
        if mu:
            b = mu * b + g / avg
            p = p - lr * b
        else:
            p = p - lr * g / avg
        np.testing.assert_allclose(actual, p, rtol=1e-10)


def test_adagrad(problem):
    p0, grads = problem
    lr, decay, eps = 0.1, 0.01, 1e-10
    got = run(lambda ps: nn.optim.Adagrad(ps, lr=lr, lr_decay=decay), grads, p0)
    p, s = p0.copy(), 0.0
    for t, (g, actual) in enumerate(zip(grads, got), start=1):
        clr = lr / (1 + (t - 1) * decay)
        s = s + g * g
        p = p - clr * g / (np.sqrt(s) + eps)
        np.testing.assert_allclose(actual, p, rtol=1e-10)


def test_float32_parameters_stay_float32():
    p = ad.randn(3, requires_grad=True)
    for cls in (nn.optim.SGD, nn.optim.Adam, nn.optim.RMSprop, nn.optim.Adagrad):
        opt = cls([p], lr=0.1)
        p.grad = ad.randn(3)
        opt.step()
        assert p.dtype == np.float32 and all(
            v.dtype == np.float32 for s in opt.state.values() for v in s.values()
            if isinstance(v, np.ndarray))


def test_param_groups_and_zero_grad():
    a, b = ad.ones(2, requires_grad=True), ad.ones(2, requires_grad=True)
    opt = nn.optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad, b.grad = ad.ones(2), ad.ones(2)
    opt.step()
    np.testing.assert_allclose(a.data, 0.9)
    np.testing.assert_allclose(b.data, 0.0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_state_dict_resumes_exactly(problem):
    p0, grads = problem
    full = run(lambda ps: nn.optim.Adam(ps, lr=0.01), grads, p0)
    p = ad.tensor(p0.copy(), requires_grad=True)
    opt = nn.optim.Adam([p], lr=0.01)
    for g in grads[:2]:
        p.grad = ad.tensor(g)
        opt.step()
    saved, p_saved = opt.state_dict(), p.data.copy()
    q = ad.tensor(p_saved, requires_grad=True)
    opt2 = nn.optim.Adam([q], lr=0.5)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == 0.01
    for g in grads[2:]:
        q.grad = ad.tensor(g)
        opt2.step()
    np.testing.assert_array_equal(q.data, full[-1])


def test_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        nn.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="learning rate must be >= 0"):
        nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=-0.1)
    with pytest.raises(ValueError, match="momentum"):
        nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=0.1, momentum=-1)
    with pytest.raises(ValueError, match="betas"):
        nn.optim.Adam([ad.ones(1, requires_grad=True)], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="does not require grad"):
        nn.optim.Adam([ad.ones(1)])
    with pytest.raises(ValueError, match="two groups"):
        p = ad.ones(1, requires_grad=True)
        nn.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="nesterov"):
        nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=0.1, nesterov=True)


@pytest.mark.parametrize("make, message", [
    (lambda ps: nn.optim.RMSprop(ps, alpha=1.5), "alpha"),
    (lambda ps: nn.optim.RMSprop(ps, momentum=-0.1), "momentum"),
    (lambda ps: nn.optim.Adagrad(ps, lr_decay=-1.0), "lr_decay"),
    (lambda ps: nn.optim.Adam(ps, eps=-1.0), "eps must be >= 0"),
    (lambda ps: nn.optim.AdamW(ps, betas=(0.9, 1.0)), "betas"),
    (lambda ps: nn.optim.SGD(ps, lr=0.1, weight_decay=-1.0), "weight_decay must be >= 0"),
    (lambda ps: nn.optim.SGD([{"params": ps, "lr": -1.0}], lr=0.1), "learning rate"),
])
def test_bad_hyperparameters(make, message):
    with pytest.raises(ValueError, match=message):
        make([ad.ones(2, requires_grad=True)])


def test_state_dict_survives_a_checkpoint_file(tmp_path):
    w = ad.tensor([1.0, -2.0], requires_grad=True)
    opt = nn.optim.Adam([w], lr=0.1, amsgrad=True)
    (w * w).sum().backward()
    opt.step()
    nn.save(opt.state_dict(), tmp_path / "opt.npz")
    fresh = nn.optim.Adam([w], lr=0.5)
    fresh.load_state_dict(nn.load(tmp_path / "opt.npz"))
    assert fresh.param_groups[0]["lr"] == 0.1 and fresh.param_groups[0]["amsgrad"] is True
    saved, restored = opt.state[id(w)], fresh.state[id(w)]
    assert saved.keys() == restored.keys()
    for k in saved:
        np.testing.assert_array_equal(restored[k], saved[k])
