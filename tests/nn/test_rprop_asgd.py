"""Rprop and ASGD against their written update rules in NumPy, step by step (PyTorch's
comparison is in test_optim_against_pytorch.py), their state and its checks, their errors."""

import numpy as np
import pytest

import autodiff as ad
import nn


@pytest.fixture
def problem():
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal(5) for _ in range(8)]
    grads[3][1] = 0.0  # a zero gradient: the step size stays
    grads[4] = -grads[3]  # every sign flips
    return rng.standard_normal(5), grads


def run(opt_class, p0, grads, **kwargs):
    p = ad.tensor(p0.copy(), requires_grad=True)
    opt = opt_class([p], **kwargs)
    out = []
    for g in grads:
        p.grad = ad.tensor(g)
        opt.step()
        out.append(p.data.copy())
    return out, opt.state[id(p)]


@pytest.mark.parametrize("etas, step_sizes", [((0.5, 1.2), (1e-6, 50.0)),
                                              ((0.3, 1.9), (0.01, 0.05))])
def test_rprop_rule(problem, etas, step_sizes):
    p0, grads = problem
    got, state = run(nn.optim.Rprop, p0, grads, lr=0.02, etas=etas, step_sizes=step_sizes)
    p, prev, size = p0.copy(), np.zeros(5), np.full(5, 0.02)
    for g, actual in zip(grads, got):
        s = np.sign(g * prev)
        size = np.clip(size * np.choose(s.astype(int) + 1, [etas[0], 1.0, etas[1]]),
                       *step_sizes)
        g = np.where(s < 0, 0.0, g)
        p = p - np.sign(g) * size
        prev = g
        np.testing.assert_allclose(actual, p, rtol=1e-15)
    assert state["step"] == len(grads)
    np.testing.assert_allclose(state["step_size"], size, rtol=1e-15)


@pytest.mark.parametrize("t0, wd", [(1e6, 0.0), (3.0, 0.1)])
def test_asgd_rule_and_its_average(problem, t0, wd):
    p0, grads = problem
    lr, lambd, alpha = 0.1, 0.05, 0.75
    got, state = run(nn.optim.ASGD, p0, grads, lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                     weight_decay=wd)
    p, ax, eta, mu = p0.copy(), np.zeros(5), lr, 1.0
    for t, (g, actual) in enumerate(zip(grads, got), start=1):
        g = g + wd * p
        p = p * (1 - lambd * eta) - eta * g
        ax = p.copy() if mu == 1 else ax + mu * (p - ax)
        eta, mu = lr / (1 + lambd * lr * t) ** alpha, 1 / max(1, t - t0)
        np.testing.assert_allclose(actual, p, rtol=1e-14)
    np.testing.assert_allclose(state["ax"], ax, rtol=1e-14)
    assert state["eta"] == pytest.approx(eta, rel=1e-15) and state["mu"] == mu
    if t0 == 3.0:  # mu = 1 / (t - t0) after step t > t0 + 1 is used at step t + 1, so ax
        # restarts at the iterate of step t0 + 2 = 5 and averages those from there on
        np.testing.assert_allclose(ax, np.mean(got[4:], axis=0), rtol=1e-12)


@pytest.mark.parametrize("name", ["Rprop", "ASGD"])
def test_state_round_trips_through_a_checkpoint_and_float32_stays(name, tmp_path):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(3).astype(np.float32) for _ in range(6)]
    make = getattr(nn.optim, name)
    whole, _ = run(make, np.ones(3, np.float32), grads, lr=0.05)
    p = ad.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = make([p], lr=0.05)
    for g in grads[:3]:
        p.grad = ad.tensor(g)
        opt.step()
    nn.save({"p": p.data, "opt": opt.state_dict()}, tmp_path / "c.npz")
    ckpt = nn.load(tmp_path / "c.npz")
    q = ad.tensor(ckpt["p"], requires_grad=True)
    fresh = make([q], lr=0.5)
    fresh.load_state_dict(ckpt["opt"])
    for g in grads[3:]:
        q.grad = ad.tensor(g)
        fresh.step()
    assert q.dtype == np.float32
    assert all(v.dtype == np.float32 for v in fresh.state[id(q)].values()
               if isinstance(v, np.ndarray))
    np.testing.assert_array_equal(q.data, whole[-1])


@pytest.mark.parametrize("make, match", [
    (lambda ps: nn.optim.Rprop(ps, etas=(1.2, 0.5)), r"Rprop: etas must be \(etaminus, "),
    (lambda ps: nn.optim.Rprop(ps, etas=(0.5, 1.0)), r"0 < etaminus < 1 < etaplus"),
    (lambda ps: nn.optim.Rprop(ps, step_sizes=(1.0, 0.1)), r"step_sizes must be \(min, max\)"),
    (lambda ps: nn.optim.Rprop(ps, step_sizes=(-1.0, 1.0)), r"0 <= min <= max"),
    (lambda ps: nn.optim.Rprop(ps, lr=float("nan")), r"Rprop: learning rate must be >= 0"),
    (lambda ps: nn.optim.ASGD(ps, lambd=-1.0), r"ASGD: lambd must be >= 0"),
    (lambda ps: nn.optim.ASGD(ps, alpha=float("inf")), r"ASGD: alpha must be >= 0"),
    (lambda ps: nn.optim.ASGD(ps, t0=float("nan")), r"ASGD: t0 must be >= 0"),
    (lambda ps: nn.optim.ASGD(ps, weight_decay=-0.1), r"ASGD: weight_decay must be >= 0"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_hyperparameters(make, match):
    with pytest.raises(ValueError, match=match):
        make([ad.zeros(2, requires_grad=True)])


def test_another_optimizers_state_is_refused():
    p = ad.zeros(2, requires_grad=True)
    p.grad = ad.ones(2)
    rprop = nn.optim.Rprop([p])
    rprop.step()
    with pytest.raises(ValueError, match="the state was saved by Rprop, not by ASGD"):
        nn.optim.ASGD([p]).load_state_dict(rprop.state_dict())
