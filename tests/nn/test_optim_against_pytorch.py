"""Every optimizer PyTorch also has, against torch.optim on random configurations: several
parameter groups with their own options drawn over every keyword, float32 and float64, 0-d and
empty parameters, gradients that are None on some steps, zero or mostly zero, the learning rate
changed by hand and a group added mid-run. Then a run saved mid-way through a checkpoint file
and resumed in a fresh optimizer continues bit for bit (that part needs no PyTorch)."""

import random

import numpy as np
import pytest

import autodiff as ad
import nn


def draw(name, r):
    """Options for `name` over every keyword both libraries have (foreach and the other
    kernel switches aside)."""
    u, coin = r.uniform, lambda: r.random() < 0.5
    wd = 0.0 if coin() else u(0, 0.1)
    betas = (u(0, 0.99), u(0.5, 0.9999))
    eps = 1e-8 if coin() else u(1e-8, 1e-2)
    if name == "SGD":
        mom = 0.0 if r.random() < 0.3 else u(0, 0.99)
        nesterov = mom > 0 and coin()
        return dict(lr=u(1e-3, 0.3), momentum=mom, dampening=0.0 if nesterov else u(0, 1),
                    weight_decay=wd, nesterov=nesterov, maximize=coin())
    if name in ("Adam", "AdamW"):
        decoupled = {"decoupled_weight_decay": coin()} if name == "Adam" else {}
        return dict(lr=u(1e-3, 0.1), betas=betas, eps=eps, weight_decay=wd, amsgrad=coin(),
                    maximize=coin(), **decoupled)
    if name == "Adamax":
        return dict(lr=u(1e-3, 0.1), betas=betas, eps=eps, weight_decay=wd, maximize=coin())
    if name in ("NAdam", "RAdam"):
        extra = {"momentum_decay": u(0, 0.1)} if name == "NAdam" else {}
        return dict(lr=u(1e-3, 0.1), betas=betas, eps=eps, weight_decay=wd,
                    decoupled_weight_decay=coin(), maximize=coin(), **extra)
    if name == "RMSprop":
        return dict(lr=u(1e-3, 0.1), alpha=u(0.5, 0.999), eps=eps, weight_decay=wd,
                    momentum=0.0 if coin() else u(0, 0.99), centered=coin(), maximize=coin())
    if name == "Adagrad":  # PyTorch reads initial_accumulator_value from the defaults only
        return dict(lr=u(1e-3, 0.3), lr_decay=0.0 if coin() else u(0, 0.1), weight_decay=wd,
                    eps=1e-10 if coin() else u(1e-10, 1e-2), maximize=coin())
    if name == "Rprop":
        return dict(lr=u(1e-3, 0.1), etas=(u(0.1, 0.9), u(1.01, 2)),
                    step_sizes=(1e-6 if coin() else u(0, 1e-3), 50.0 if coin() else u(0.01, 1)),
                    maximize=coin())
    if name == "ASGD":
        return dict(lr=u(1e-3, 0.3), lambd=1e-4 if coin() else u(0, 0.1), alpha=u(0, 1),
                    t0=1e6 if coin() else float(r.randint(0, 20)), weight_decay=wd,
                    maximize=coin())
    return dict(lr=u(0.1, 2), rho=u(0.5, 0.99), eps=1e-6 if coin() else u(1e-8, 1e-2),
                weight_decay=wd, maximize=coin())


NAMES = ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta",
         "Rprop", "ASGD"]
SHAPES = [(), (0,), (3,), (2, 3)]


class Run:
    """One random configuration: initial values, groups' options and a gradient stream."""

    def __init__(self, name, seed):
        r = random.Random(seed)
        self.name, self.steps, self.seed = name, 25, seed
        self.groups = [[(r.choice(SHAPES), r.choice([np.float32, np.float64]))
                        for _ in range(r.randint(1, 2))] for _ in range(r.randint(1, 3))]
        self.options = [draw(name, r) for _ in self.groups]
        self.defaults = draw(name, r)
        if name == "Adagrad":
            self.defaults["initial_accumulator_value"] = r.uniform(0, 1)
        self.late = [(r.choice(SHAPES), np.float64)]  # added by add_param_group at step 10
        self.late_options = draw(name, r)
        self.lr_factor = r.uniform(0.1, 2)  # applied to every group at step 15

    def initial(self):
        rng = np.random.default_rng(self.seed)
        return [[rng.standard_normal(s).astype(d) for s, d in g] for g in [*self.groups,
                                                                           self.late]]

    def gradients(self):
        rng = np.random.default_rng(self.seed + 1)
        for _ in range(self.steps):
            step = []
            for g in [*self.groups, self.late]:
                row = []
                for s, d in g:
                    k = rng.random()
                    grad = rng.standard_normal(s).astype(d)
                    row.append(None if k < 0.15 else 0 * grad if k < 0.25
                               else grad * (rng.random(s) < 0.2) if k < 0.45 else grad)
                step.append(row)
            yield step

    def go(self, lib, tensor, optim, stop=None, resume=None):
        """Params after the run (or after `stop` steps, with the optimizer); `resume`: (params'
        values, optimizer state, start step) to continue from."""
        start = 0
        values = self.initial() if resume is None else resume[0]
        params = [[tensor(v.copy(), requires_grad=True) for v in g] for g in values]
        groups = [{"params": ps, **o} for ps, o in zip(params, self.options)]
        opt = getattr(optim, self.name)(groups, **self.defaults)
        if resume is not None:
            opt.add_param_group({"params": params[-1], **self.late_options})
            opt.load_state_dict(resume[1])
            start = resume[2]
        for t, grads in enumerate(self.gradients()):
            if t < start:
                continue
            if t == stop:
                return params, opt
            if t == 10 and resume is None:
                opt.add_param_group({"params": params[-1], **self.late_options})
            if t == 15:
                for g in opt.param_groups:
                    g["lr"] *= self.lr_factor
            for ps, gs in zip(params if t >= 10 else params[:-1], grads):
                for p, g in zip(ps, gs):
                    p.grad = None if g is None else tensor(g)
            opt.step()
        return params, opt


CASES = [(name, seed) for name in NAMES for seed in range(3)]


@pytest.mark.parametrize("name, seed", CASES)
def test_trajectory_and_state_match_pytorch(name, seed):
    torch = pytest.importorskip("torch", reason="torch.optim is the reference")
    run = Run(name, 100 * seed + NAMES.index(name))
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # NAdam's mu_product, ASGD's eta: else float32
    try:
        theirs, topt = run.go(torch, lambda a, **k: torch.tensor(a, **k), torch.optim)
    finally:
        torch.set_default_dtype(old)
    ours, opt = run.go(ad, ad.tensor, nn.optim)
    for tg, og in zip(theirs, ours):
        for t, o in zip(tg, og):
            assert o.dtype == t.detach().numpy().dtype
            rtol = 1e-12 if o.dtype == np.float64 else 2e-5
            np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=rtol, atol=rtol)
            mine, yours = opt.state.get(id(o), {}), topt.state.get(t, {})
            for key, value in mine.items():
                theirs_value = yours[key]
                np.testing.assert_allclose(np.asarray(value), theirs_value.detach().numpy(),
                                           rtol=rtol, atol=rtol, err_msg=key)


@pytest.mark.parametrize("name, seed", CASES[::2])
def test_a_run_saved_mid_way_and_resumed_is_bit_identical(name, seed, tmp_path):
    run = Run(name, 100 * seed + NAMES.index(name))
    whole, _ = run.go(ad, ad.tensor, nn.optim)
    stop = 12 + seed
    params, opt = run.go(ad, ad.tensor, nn.optim, stop=stop)
    path = tmp_path / f"ckpt{'.npz' if seed % 2 else '.safetensors'}"
    nn.save({"params": [[p.data for p in g] for g in params], "opt": opt.state_dict()}, path)
    ckpt = nn.load(path)
    resumed, _ = run.go(ad, ad.tensor, nn.optim, resume=(ckpt["params"], ckpt["opt"], stop))
    for wg, rg in zip(whole, resumed):
        for w, r in zip(wg, rg):
            np.testing.assert_array_equal(r.data, w.data)
            assert r.dtype == w.dtype
