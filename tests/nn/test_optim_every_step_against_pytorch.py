"""A hostile audit against torch.optim: every optimizer PyTorch also has, compared after EVERY
step (parameters, every state entry and its names, each group's lr) over random
configurations that reach the edges of each option (betas 0, momentum 1, dampening above 1 or
negative, rho and alpha at 0 or 1, lr 0, t0 0, step sizes clamped to a point, large weight
decay), several groups, 0-d and empty parameters, gradients None on some steps, a step after
zero_grad(set_to_none=False) (zero gradients: the moments still decay) and one after
zero_grad() (nothing moves), a group added and the lr changed mid-run. LBFGS (with and without
the strong-Wolfe line search) on three problems. Then hostile arguments: the same kind of error
as PyTorch's where PyTorch raises."""

import random

import numpy as np
import pytest

import autodiff as ad
import nn

from .test_optim_against_pytorch import NAMES, Run, draw


def edgy(name, r):
    """`draw`'s options with, now and then, the edge values of each one."""
    d = draw(name, r)
    pick = r.choice
    if "betas" in d and r.random() < 0.5:
        d["betas"] = (pick([0.0, d["betas"][0], 0.999999]), pick([0.0, d["betas"][1], 0.5]))
    if name in ("SGD", "RMSprop") and r.random() < 0.3 and not d.get("nesterov"):
        d["momentum"] = pick([0.0, 1.0, 0.5])
    if name == "SGD" and r.random() < 0.3 and not d["nesterov"]:
        d["dampening"] = pick([-0.5, 1.0, 2.0])
    if r.random() < 0.1:
        d["lr"] = 0.0
    if name == "RMSprop" and r.random() < 0.3:
        # alpha 0 with centered: v - a^2 = g^2 - g*g is 0 here and, with PyTorch's fused
        # multiply-add, a rounding error either side of 0 (NaN when below): not compared
        d["alpha"] = 1.0 if d["centered"] else pick([0.0, 1.0])
    if name == "Adadelta" and r.random() < 0.3:
        d["rho"] = pick([0.0, 1.0])
    if name == "ASGD" and r.random() < 0.3:
        d["t0"], d["alpha"] = pick([0.0, 1.0, 3.5]), pick([0.0, 1.0, 2.0])
    if name == "Rprop" and r.random() < 0.3:
        d["step_sizes"] = pick([(0.0, 0.0), (0.0, 1e-3), (0.05, 0.05)])
    if name == "NAdam" and r.random() < 0.3:
        d["momentum_decay"] = pick([0.0, 1.0])
    if name == "Adagrad" and r.random() < 0.3:
        d["lr_decay"] = pick([0.0, 5.0])
    if "weight_decay" in d and r.random() < 0.2:
        d["weight_decay"] = pick([0.0, 1.0, 10.0])
    return d


class EdgyRun(Run):
    def __init__(self, name, seed):
        super().__init__(name, seed)
        r = random.Random(seed + 7)
        self.options = [edgy(name, r) for _ in self.groups]
        self.defaults = {**edgy(name, r), **({"initial_accumulator_value": r.uniform(0, 1)}
                                            if name == "Adagrad" else {})}
        self.late_options = edgy(name, r)
        self.groups = [[(s, np.float64) for s, _ in g] for g in self.groups]


def value(v):
    return v.detach().numpy() if hasattr(v, "detach") else np.asarray(v)


def lockstep(run, torch):
    """Both optimizers side by side; yields (ours, theirs, params pairs) after every step."""
    values = run.initial()
    T = [[torch.tensor(v.copy(), requires_grad=True) for v in g] for g in values]
    O = [[ad.tensor(v.copy(), requires_grad=True) for v in g] for g in values]
    opts = [getattr(lib, run.name)([{"params": ps, **o} for ps, o in zip(params, run.options)],
                                   **run.defaults)
            for lib, params in ((torch.optim, T), (nn.optim, O))]
    for t, grads in enumerate(run.gradients()):
        if t == 10:
            for opt, params in zip(opts, (T, O)):
                opt.add_param_group({"params": params[-1], **run.late_options})
        if t == 15:
            for opt in opts:
                for g in opt.param_groups:
                    g["lr"] *= run.lr_factor
        if t in (5, 6):
            for opt in opts:
                opt.zero_grad(set_to_none=t == 6)
        else:
            for tp, op, gs in zip(T if t >= 10 else T[:-1], O, grads):
                for a, b, g in zip(tp, op, gs):
                    a.grad = None if g is None else torch.tensor(g)
                    b.grad = None if g is None else ad.tensor(g)
        for opt in opts:
            opt.step()
        yield t, opts[1], opts[0], [(a, b) for tp, op in zip(T, O) for a, b in zip(tp, op)]


@pytest.mark.parametrize("name, seed", [(n, s) for n in NAMES for s in range(6)])
def test_parameters_state_and_lr_match_pytorch_after_every_step(name, seed):
    torch = pytest.importorskip("torch", reason="torch.optim is the reference")
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        for t, ours, theirs, pairs in lockstep(EdgyRun(name, 500 + 37 * seed), torch):
            assert [g["lr"] for g in ours.param_groups] == [g["lr"] for g in
                                                             theirs.param_groups]
            for a, b in pairs:
                np.testing.assert_allclose(b.data, value(a), rtol=1e-10, atol=1e-12,
                                           err_msg=f"step {t}")
                mine, yours = ours.state.get(id(b), {}), theirs.state.get(a, {})
                if name == "Adagrad" and not mine:  # PyTorch's starts every state up front
                    continue
                assert set(mine) == {k for k, v in yours.items() if v is not None}
                for key, v in mine.items():
                    np.testing.assert_allclose(np.asarray(v), value(yours[key]).reshape(
                        np.shape(v)), rtol=1e-10, atol=1e-12, err_msg=f"{key} step {t}")
    finally:
        torch.set_default_dtype(old)


def problem(kind, xs, mats):
    if kind == "rosenbrock":
        x = xs[0]
        return ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()
    out = 0.0
    for x, a in zip(xs, mats):
        v = x.reshape(-1)
        if kind == "quartic":
            out = out + (v * (a @ v)).sum() / 2 + 0.01 * (v ** 4).sum()
        else:  # log cosh
            out = out + ((v - 0.3).exp() + (0.3 - v).exp()).log().sum() + 0.1 * (v * v).sum()
    return out


@pytest.mark.parametrize("seed", range(14))
def test_lbfgs_matches_pytorch_step_by_step(seed):
    torch = pytest.importorskip("torch", reason="torch.optim.LBFGS is the reference")
    r, rng = random.Random(seed), np.random.default_rng(seed)
    kind = ["rosenbrock", "quartic", "logcosh"][seed % 3]
    shapes = [(r.randint(2, 6),)] if kind == "rosenbrock" else [
        r.choice([(3,), (2, 2), (), (0,)]) for _ in range(r.randint(1, 3))] + [(2,)]
    halves = [rng.standard_normal(2 * [int(np.prod(s))]) for s in shapes]
    mats = [m @ m.T + 0.1 * np.eye(len(m)) for m in halves]  # positive definite
    init = [rng.standard_normal(s) for s in shapes]
    kw = dict(lr=r.choice([1.0, 0.5, 0.1]), max_iter=r.choice([1, 3, 20]),
              history_size=r.choice([1, 3, 100]),
              line_search_fn=(None, "strong_wolfe")[seed % 2])
    if r.random() < 0.3:
        kw["max_eval"] = r.choice([1, 2, 7])
    if r.random() < 0.3:
        kw.update(tolerance_grad=r.choice([1e-3, 1e-12]),
                  tolerance_change=r.choice([1e-4, 1e-15]))
    runs = []
    for optim, tensor in ((torch.optim, torch.tensor), (nn.optim, ad.tensor)):
        xs = [tensor(v.copy(), requires_grad=True) for v in init]
        a = [tensor(m) for m in mats]
        opt = optim.LBFGS(xs, **kw)

        def closure(opt=opt, xs=xs, a=a):
            opt.zero_grad()
            loss = problem(kind, xs, a)
            loss.backward()
            return loss
        runs.append((xs, opt, closure))
    (txs, topt, tclosure), (oxs, oopt, oclosure) = runs
    for _ in range(3):
        lt, lo = topt.step(tclosure), oopt.step(oclosure)
        assert float(lo.detach().item()) == pytest.approx(float(lt.detach().item()), rel=1e-9)
        for a, b in zip(txs, oxs):
            np.testing.assert_allclose(b.data, value(a), rtol=1e-7, atol=1e-9)
        tstate, ostate = topt.state[txs[0]], oopt.state[id(oxs[0])]
        assert (ostate["func_evals"], ostate["n_iter"]) == (tstate["func_evals"],
                                                            tstate["n_iter"])


HOSTILE = {
    "negative lr": lambda lib, o, p: o([p()], lr=-1.0),
    "nan lr": lambda lib, o, p: o([p()], lr=float("nan")),
    "negative weight_decay": lambda lib, o, p: o([p()], lr=0.1, weight_decay=-1.0),
    "no params": lambda lib, o, p: o([], lr=0.1),
    "an array": lambda lib, o, p: o([np.ones(2)], lr=0.1),
    "non-leaf": lambda lib, o, p: o([p() * 2], lr=0.1),
    "a set": lambda lib, o, p: o({p()}, lr=0.1),
    "in two groups": lambda lib, o, p: (lambda w: o([{"params": [w]}, {"params": [w]}],
                                                    lr=0.1))(p()),
}
EXTRA = {
    "Adam": {"beta1 = 1": dict(betas=(1.0, 0.9)), "beta2 < 0": dict(betas=(0.9, -0.1)),
             "nan beta": dict(betas=(float("nan"), 0.9)), "eps < 0": dict(eps=-1.0)},
    "SGD": {"momentum < 0": dict(momentum=-0.1), "nesterov, no momentum": dict(nesterov=True),
            "nesterov, dampening": dict(momentum=0.9, dampening=0.1, nesterov=True)},
    "RMSprop": {"momentum < 0": dict(momentum=-0.1), "eps < 0": dict(eps=-1.0)},
    "Rprop": {"etaminus > 1": dict(etas=(1.5, 1.2)), "etaplus < 1": dict(etas=(0.5, 0.9))},
    "Adadelta": {"rho > 1": dict(rho=1.5)},
    "Adagrad": {"lr_decay < 0": dict(lr_decay=-1.0),
                "accumulator < 0": dict(initial_accumulator_value=-1.0)},
    "NAdam": {"momentum_decay < 0": dict(momentum_decay=-1.0)},
}
CASES = [(n, k) for n in ["SGD", "Adam", "RMSprop", "Adagrad", "ASGD", "Rprop"] for k in HOSTILE]
CASES += [(n, k) for n, ks in EXTRA.items() for k in ks]


def attempt(lib, optim, name, case):
    def p():
        return lib.ones(2, requires_grad=True)
    if case in HOSTILE:
        return HOSTILE[case](lib, getattr(optim, name), p)
    return getattr(optim, name)([p()], **{"lr": 0.1, **EXTRA[name][case]})


@pytest.mark.parametrize("name, case", CASES)
def test_hostile_arguments_are_refused(name, case):
    with pytest.raises((ValueError, TypeError), match=name):
        attempt(ad, nn.optim, name, case)


@pytest.mark.parametrize("name, case", CASES)
def test_hostile_arguments_raise_the_kind_of_error_pytorch_raises(name, case):
    torch = pytest.importorskip("torch", reason="PyTorch's error types are the reference")
    try:
        attempt(torch, torch.optim, name, case)
    except (ValueError, TypeError) as e:
        theirs = type(e)
    else:  # PyTorch accepts it (a NaN lr in SGD, a set, ...): here it is refused all the same
        theirs = (ValueError, TypeError)
    with pytest.raises(theirs):
        attempt(ad, nn.optim, name, case)
