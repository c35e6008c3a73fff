"""Every schedule against torch.optim.lr_scheduler over random configurations: the rates (and
the momentum or beta1 that OneCycleLR and CyclicLR cycle) of two parameter groups after every
step, on SGD and Adam; ReduceLROnPlateau over random metric streams (NaN and ties included);
SequentialLR and ChainedScheduler over random compositions."""

import random
import warnings

import numpy as np
import pytest

import autodiff as ad
import nn


def schedule(L, name, r):
    """A maker of schedule `name` from module L, its arguments drawn from r."""
    u = r.uniform
    if name == "StepLR":
        a = (r.randint(1, 7), u(0, 1.5))
        return lambda o: L.StepLR(o, *a)
    if name == "MultiStepLR":
        a = ([r.randint(0, 30) for _ in range(r.randint(1, 4))], u(0, 1.5))
        return lambda o: L.MultiStepLR(o, *a)
    if name == "ExponentialLR":
        g = u(0.5, 1.05)
        return lambda o: L.ExponentialLR(o, g)
    if name == "CosineAnnealingLR":
        a = (r.randint(1, 20), r.choice([0.0, u(0, 0.05)]))
        return lambda o: L.CosineAnnealingLR(o, *a)
    if name == "LinearLR":
        a = (u(0.01, 1), u(0, 1), r.randint(1, 20))
        return lambda o: L.LinearLR(o, *a)
    if name == "ConstantLR":
        a = (u(0, 1), r.randint(1, 20))
        return lambda o: L.ConstantLR(o, *a)
    if name == "PolynomialLR":
        a = (r.randint(1, 30), u(0, 3))
        return lambda o: L.PolynomialLR(o, *a)
    if name == "MultiplicativeLR":
        c = u(0.8, 1.0)
        return lambda o: L.MultiplicativeLR(o, lambda e: c ** (e % 3))
    if name == "LambdaLR":
        c = u(0.8, 1.0)
        return lambda o: L.LambdaLR(o, lambda e: c ** e / (1 + e % 4))
    if name == "CosineAnnealingWarmRestarts":
        a = (r.randint(1, 10), r.randint(1, 3), r.choice([0.0, u(0, 0.05)]))
        return lambda o: L.CosineAnnealingWarmRestarts(o, *a)
    if name == "OneCycleLR":
        kw = dict(max_lr=[u(0.1, 2), u(0.1, 2)], total_steps=r.randint(10, 60),
                  pct_start=u(0.1, 0.9), anneal_strategy=r.choice(["cos", "linear"]),
                  div_factor=u(2, 30), final_div_factor=u(10, 1e4), three_phase=r.random() < 0.5)
        return lambda o: L.OneCycleLR(o, **kw)
    kw = dict(base_lr=u(0.01, 0.1), max_lr=u(0.2, 1), step_size_up=r.randint(1, 8),
              step_size_down=r.choice([None, r.randint(1, 8)]),
              mode=r.choice(["triangular", "triangular2", "exp_range"]), gamma=u(0.9, 1))
    return lambda o: L.CyclicLR(o, **kw)


NAMES = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
         "ConstantLR", "PolynomialLR", "MultiplicativeLR", "LambdaLR",
         "CosineAnnealingWarmRestarts", "OneCycleLR", "CyclicLR"]


def optimizer(lib, name):
    ones = ad.ones if lib is None else lib.ones
    optim = nn.optim if lib is None else lib.optim
    groups = [{"params": [ones(1, requires_grad=True)]},
              {"params": [ones(1, requires_grad=True)], "lr": 0.3}]
    return getattr(optim, name)(groups, lr=0.7, **({"momentum": 0.9} if name == "SGD" else {}))


def hyper(opt):
    """Each group's lr and its momentum (SGD) or beta1 (Adam)."""
    return np.array([[g["lr"], g["momentum"] if "momentum" in g else g["betas"][0]]
                     for g in opt.param_groups])


@pytest.fixture
def torch():
    torch = pytest.importorskip("torch", reason="torch.optim.lr_scheduler is the reference")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's SequentialLR warns about its own calls
        yield torch


@pytest.mark.parametrize("name, seed", [(n, s) for n in NAMES for s in range(8)])
def test_random_configurations_match_pytorch_at_every_step(name, seed, torch):
    kind = random.Random(seed).choice(["SGD", "Adam"])
    ours, theirs = optimizer(None, kind), optimizer(torch, kind)
    a = schedule(nn.optim.lr_scheduler, name, random.Random(100 * seed))(ours)
    b = schedule(torch.optim.lr_scheduler, name, random.Random(100 * seed))(theirs)
    for _ in range(b.total_steps if name == "OneCycleLR" else 60):
        np.testing.assert_allclose(hyper(ours), hyper(theirs), rtol=1e-11, atol=1e-15)
        theirs.step()
        a.step()
        b.step()


@pytest.mark.parametrize("seed", range(25))
def test_reduce_lr_on_plateau_over_random_metric_streams(seed, torch):
    r = random.Random(seed)
    kw = dict(mode=r.choice(["min", "max"]), factor=r.uniform(0.05, 0.9),
              patience=r.randint(0, 4), threshold=r.choice([1e-4, 0.0, 0.05, 1.0]),
              threshold_mode=r.choice(["rel", "abs"]), cooldown=r.randint(0, 3),
              min_lr=r.choice([0.0, 0.01, [0.02, 0.001]]), eps=r.choice([1e-8, 0.01, 0.3]))
    ours, theirs = optimizer(None, "SGD"), optimizer(torch, "SGD")
    a = nn.optim.lr_scheduler.ReduceLROnPlateau(ours, **kw)
    b = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **kw)
    for _ in range(40):
        metric = r.choice([r.uniform(-2, 2), float("nan"), 1.0, -1.0, 0.0])
        a.step(metric)
        b.step(metric)
        np.testing.assert_allclose(hyper(ours), hyper(theirs), rtol=1e-13, atol=0)


PARTS = ["StepLR", "MultiStepLR", "ExponentialLR", "LinearLR", "ConstantLR", "PolynomialLR",
         "LambdaLR", "CosineAnnealingLR"]


@pytest.mark.parametrize("seed", range(30))
def test_random_sequences_and_chains_match_pytorch(seed, torch):
    """Chains of the schedules PyTorch updates multiplicatively (a LambdaLR or a cosine in a
    chain is the documented difference) and sequences of any of them."""
    r = random.Random(seed)
    chain = seed % 2 == 1
    names = [r.choice(PARTS) for _ in range(r.randint(1, 3))]
    if chain:
        names = [n for n in names if n not in ("LambdaLR", "CosineAnnealingLR")] or ["StepLR"]
    seeds = [r.randint(0, 10 ** 6) for _ in names]
    milestones = sorted(r.sample(range(1, 30), len(names) - 1))
    opts = []
    for lib, L in ((None, nn.optim.lr_scheduler), (torch, torch.optim.lr_scheduler)):
        opt = optimizer(lib, "SGD")
        parts = [schedule(L, n, random.Random(s))(opt) for n, s in zip(names, seeds)]
        whole = L.ChainedScheduler(parts) if chain else L.SequentialLR(opt, parts, milestones)
        opts.append((opt, whole))
    (ours, a), (theirs, b) = opts
    for _ in range(50):
        np.testing.assert_allclose(hyper(ours), hyper(theirs), rtol=1e-9, atol=1e-15)
        theirs.step()
        a.step()
        b.step()
