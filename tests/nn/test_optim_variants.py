"""Adadelta, Adamax, NAdam, RAdam: against their written update rules in NumPy (no PyTorch
needed), against torch.optim over 50 steps of a small non-convex problem with two parameter
groups (float64), and resumed mid-run from a checkpoint file bit-identically."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn

Adadelta, Adamax, NAdam, RAdam = nn.optim.Adadelta, nn.optim.Adamax, nn.optim.NAdam, nn.optim.RAdam


def run(make_opt, grads, p0):
    """The parameter after each step of the optimizer fed the gradient sequence."""
    p = ad.tensor(p0.copy(), requires_grad=True)
    opt = make_opt([p])
    out = []
    for g in grads:
        p.grad = ad.tensor(g)
        opt.step()
        out.append(p.data.copy())
    return out


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    return rng.standard_normal(4), [rng.standard_normal(4) for _ in range(12)]


# -- the written rules, step by step in NumPy -------------------------------------------------


@pytest.mark.parametrize("lr, rho, eps, wd", [(1.0, 0.9, 1e-6, 0.0), (0.5, 0.95, 1e-3, 0.1)])
def test_adadelta_rule(problem, lr, rho, eps, wd):
    p0, grads = problem
    got = run(lambda ps: Adadelta(ps, lr=lr, rho=rho, eps=eps, weight_decay=wd), grads, p0)
    p, v, u = p0.copy(), 0.0, 0.0
    for g, actual in zip(grads, got):
        g = g + wd * p
        v = rho * v + (1 - rho) * g ** 2
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta ** 2
        p = p - lr * delta
        np.testing.assert_allclose(actual, p, rtol=1e-12)


@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_adamax_rule(problem, wd):
    p0, grads = problem
    lr, b1, b2, eps = 0.01, 0.9, 0.99, 1e-8
    got = run(lambda ps: Adamax(ps, lr=lr, betas=(b1, b2), weight_decay=wd), grads, p0)
    p, m, u = p0.copy(), 0.0, 0.0
    for t, (g, actual) in enumerate(zip(grads, got), start=1):
        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g) + eps)
        p = p - lr / (1 - b1 ** t) * m / u
        np.testing.assert_allclose(actual, p, rtol=1e-12)


@pytest.mark.parametrize("wd, decoupled", [(0.0, False), (0.1, False), (0.1, True)])
def test_nadam_rule(problem, wd, decoupled):
    p0, grads = problem
    lr, b1, b2, eps, psi = 0.01, 0.9, 0.999, 1e-8, 4e-3
    got = run(lambda ps: NAdam(ps, lr=lr, weight_decay=wd, decoupled_weight_decay=decoupled),
              grads, p0)
    mus = [b1 * (1 - 0.5 * 0.96 ** (t * psi)) for t in range(1, len(grads) + 2)]
    p, m, v = p0.copy(), 0.0, 0.0
    for t, (g, actual) in enumerate(zip(grads, got), start=1):
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = (mus[t] * m / (1 - np.prod(mus[:t + 1]))
                 + (1 - mus[t - 1]) * g / (1 - np.prod(mus[:t])))
        p = p - lr * m_hat / (np.sqrt(v / (1 - b2 ** t)) + eps)
        np.testing.assert_allclose(actual, p, rtol=1e-12)


@pytest.mark.parametrize("wd, decoupled", [(0.0, False), (0.1, False), (0.1, True)])
def test_radam_rule_switches_to_the_rectified_step_after_rho_passes_5(problem, wd, decoupled):
    p0, grads = problem
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    got = run(lambda ps: RAdam(ps, lr=lr, weight_decay=wd, decoupled_weight_decay=decoupled),
              grads, p0)
    rho_inf = 2 / (1 - b2) - 1
    p, m, v, rectified = p0.copy(), 0.0, 0.0, []
    for t, (g, actual) in enumerate(zip(grads, got), start=1):
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        rho = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
        rectified.append(rho > 5)
        if rho > 5:
            r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            p = p - lr * m_hat * r * math.sqrt(1 - b2 ** t) / (np.sqrt(v) + eps)
        else:
            p = p - lr * m_hat
        np.testing.assert_allclose(actual, p, rtol=1e-12)
    assert rectified == [False] * 5 + [True] * 7  # both branches ran


def test_maximize_ascends(problem):
    p0, grads = problem
    for make in (Adadelta, Adamax, NAdam, RAdam):
        up = run(lambda ps, make=make: make(ps, maximize=True), grads[:3], p0)
        down = run(lambda ps, make=make: make(ps), [-g for g in grads[:3]], p0)
        np.testing.assert_array_equal(up[-1], down[-1])


def test_float32_parameters_and_state_stay_float32():
    for make in (Adadelta, Adamax, NAdam, RAdam):
        p = ad.randn(3, requires_grad=True)
        opt = make([p], weight_decay=0.1)
        for _ in range(7):
            p.grad = ad.randn(3)
            opt.step()
        assert p.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[id(p)].values()
                   if isinstance(v, np.ndarray))


# -- against PyTorch: 50 steps of a tiny tanh network, two parameter groups -------------------


def mlp_data():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))
    params = {"W1": rng.standard_normal((5, 3)), "b1": rng.standard_normal(5) * 0.1,
              "W2": rng.standard_normal((1, 5)), "b2": np.zeros(1)}
    return X, y, params


def groups(params, lr):
    """Weights with weight decay, biases with a learning rate of their own."""
    return [{"params": [params["W1"], params["W2"]]},
            {"params": [params["b1"], params["b2"]], "lr": lr / 2, "weight_decay": 0.0}]


def ours_run(make, kwargs, steps=50):
    X, y, init = mlp_data()
    P = {k: ad.tensor(v.copy(), requires_grad=True) for k, v in init.items()}
    opt = make(groups(P, kwargs["lr"]), **kwargs)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        out_ = ad.tanh(ad.tensor(X) @ P["W1"].T + P["b1"]) @ P["W2"].T + P["b2"]
        ((out_ - ad.tensor(y)) ** 2).mean().backward()
        opt.step()
        out.append(np.concatenate([P[k].data.ravel() for k in sorted(P)]))
    return np.array(out)


def torch_run(torch, name, kwargs, steps=50):
    X, y, init = mlp_data()
    P = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in init.items()}
    opt = getattr(torch.optim, name)(groups(P, kwargs["lr"]), foreach=False, **kwargs)
    X, y = torch.tensor(X), torch.tensor(y)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        out_ = torch.tanh(X @ P["W1"].T + P["b1"]) @ P["W2"].T + P["b2"]
        ((out_ - y) ** 2).mean().backward()
        opt.step()
        out.append(np.concatenate([P[k].detach().numpy().ravel() for k in sorted(P)]))
    return np.array(out)


CONFIGS = [
    ("Adadelta", {"lr": 1.0, "weight_decay": 0.01}),
    ("Adadelta", {"lr": 0.5, "rho": 0.95, "eps": 1e-4, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {"lr": 0.02, "weight_decay": 0.01}),
    ("Adamax", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "maximize": True}),
    ("NAdam", {"lr": 0.02, "weight_decay": 0.01}),
    ("NAdam", {"lr": 0.01, "momentum_decay": 0.02, "weight_decay": 0.1,
               "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.01, "betas": (0.85, 0.99), "maximize": True}),
    ("RAdam", {"lr": 0.02, "weight_decay": 0.01}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "maximize": True}),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)]


@pytest.fixture
def torch64():
    """PyTorch with float64 as its default dtype, so that the step counts and NAdam's
    mu_product it keeps as 0-d tensors are float64 too (float32 otherwise), restored after."""
    torch = pytest.importorskip("torch", reason="compare with torch.optim")
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(before)


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_matches_pytorch_over_50_steps_in_float64(torch64, name, kwargs):
    """The same iterates as torch.optim, step by step, within 1e-13 relative (measured: 1.3e-15
    at most, 8e-14 absolute where Adadelta's maximized parameters reach 50; the two differ only
    in the order of a few float operations)."""
    ours = ours_run(getattr(nn.optim, name), kwargs)
    theirs = torch_run(torch64, name, kwargs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-13)
    assert np.abs(ours[-1] - ours[0]).max() > 1e-2  # it moved


def test_pytorchs_nadam_keeps_mu_product_in_float32_by_default():
    """With PyTorch's default dtype (float32) its NAdam rounds the product of the momentum
    coefficients to float32 even for float64 parameters; here it is a float64 number, so the
    two differ by about 1e-9 (and by 4e-16 once PyTorch's default is float64, above)."""
    torch = pytest.importorskip("torch", reason="compare with torch.optim")
    assert torch.get_default_dtype() == torch.float32
    kwargs = {"lr": 0.02, "weight_decay": 0.01}
    gap = np.abs(ours_run(NAdam, kwargs) - torch_run(torch, "NAdam", kwargs)).max()
    assert 1e-11 < gap < 1e-7


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=IDS)
def test_resuming_from_a_checkpoint_file_mid_run_is_bit_identical(name, kwargs, tmp_path):
    make = getattr(nn.optim, name)
    X, y, init = mlp_data()

    def fresh(values):
        P = {k: ad.tensor(v.copy(), requires_grad=True) for k, v in values.items()}
        return P, make(groups(P, kwargs["lr"]), **{**kwargs, "lr": 0.123})

    def steps(P, opt, n):
        for _ in range(n):
            opt.zero_grad()
            out = ad.tanh(ad.tensor(X) @ P["W1"].T + P["b1"]) @ P["W2"].T + P["b2"]
            ((out - ad.tensor(y)) ** 2).mean().backward()
            opt.step()

    straight = ours_run(make, kwargs, steps=30)[-1]
    P, opt = fresh(init)
    opt.load_state_dict(make(groups(P, kwargs["lr"]), **kwargs).state_dict())  # the real lr
    steps(P, opt, 17)
    nn.save({"opt": opt.state_dict(), "params": {k: v.data for k, v in P.items()}},
            tmp_path / "ck.npz")
    ck = nn.load(tmp_path / "ck.npz")
    P, opt = fresh(ck["params"])
    opt.load_state_dict(ck["opt"])
    steps(P, opt, 13)
    np.testing.assert_array_equal(np.concatenate([P[k].data.ravel() for k in sorted(P)]),
                                  straight)


# -- hyperparameters: NaN, inf, negatives and out-of-range values are refused ----------------

BAD = [
    (Adadelta, "lr", "learning rate"), (Adadelta, "rho", "rho"), (Adadelta, "eps", "eps"),
    (Adadelta, "weight_decay", "weight_decay"),
    (Adamax, "lr", "learning rate"), (Adamax, "eps", "eps"),
    (Adamax, "weight_decay", "weight_decay"),
    (NAdam, "lr", "learning rate"), (NAdam, "eps", "eps"), (NAdam, "weight_decay", "weight_decay"),
    (NAdam, "momentum_decay", "momentum_decay"),
    (RAdam, "lr", "learning rate"), (RAdam, "eps", "eps"), (RAdam, "weight_decay", "weight_decay"),
]
CASES = [(m, k, label, v, where) for m, k, label in BAD
         for v in (float("nan"), float("inf"), -float("inf"), -1.0)
         for where in ("constructor", "group")]


@pytest.mark.parametrize("make, key, label, value, where", CASES,
                         ids=[f"{m.__name__}-{k}-{v}-{w}" for m, k, _, v, w in CASES])
def test_every_hyperparameter_refuses_nan_inf_and_negatives(make, key, label, value, where):
    w = ad.ones(2, requires_grad=True)
    args = ([w], {key: value}) if where == "constructor" else ([{"params": [w], key: value}], {})
    with pytest.raises(ValueError) as err:
        make(args[0], **args[1])
    assert str(err.value).startswith(f"{make.__name__}: {label} must be")
    assert str(err.value).endswith(f"got {value!r}")


@pytest.mark.parametrize("make, kwargs, match", [
    (Adadelta, {"rho": 1.5}, r"^Adadelta: rho must be in \[0, 1\], got 1.5$"),
    (Adamax, {"betas": (0.9, 1.0)}, r"^Adamax: betas must be two numbers in \[0, 1\)"),
    (NAdam, {"betas": (float("nan"), 0.9)}, r"^NAdam: betas must be two numbers"),
    (RAdam, {"betas": (0.9,)}, r"^RAdam: betas must be two numbers"),
    (NAdam, {"decoupled_weight_decay": 1}, "^NAdam: decoupled_weight_decay must be True or Fal"),
    (RAdam, {"decoupled_weight_decay": "yes"}, "^RAdam: decoupled_weight_decay must be True or"),
    (Adadelta, {"maximize": None}, "^Adadelta: maximize must be True or False, got None$"),
], ids=["rho", "adamax-betas", "nadam-nan-beta", "radam-one-beta", "nadam-flag", "radam-flag",
        "maximize"])
def test_other_bad_options(make, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make([ad.ones(2, requires_grad=True)], **kwargs)


def test_pytorchs_foreach_capturable_and_differentiable_are_not_options():
    """Those choose PyTorch's kernels (multi-tensor, CUDA graphs, autograd through the step);
    here there is one NumPy path, so they are refused by Python as unknown arguments."""
    for make in (Adadelta, Adamax, NAdam, RAdam):
        for option in ("foreach", "capturable", "differentiable"):
            with pytest.raises(TypeError, match=option):
                make([ad.ones(2, requires_grad=True)], **{option: False})


def test_nadam_state_keeps_mu_product_as_a_number_and_refuses_a_corrupt_one(tmp_path):
    p = ad.tensor([1.0, 2.0], requires_grad=True)
    opt = NAdam([p])
    p.grad = ad.tensor([0.5, -0.5])
    opt.step()
    nn.save(opt.state_dict(), tmp_path / "s.npz")
    saved = nn.load(tmp_path / "s.npz")
    assert saved["state_names"] == [["exp_avg", "exp_avg_sq", "mu_product", "step"]]
    fresh = NAdam([ad.tensor([1.0, 2.0], requires_grad=True)])
    fresh.load_state_dict(saved)
    assert next(iter(fresh.state.values()))["mu_product"] == opt.state[id(p)]["mu_product"]
    saved["state"]["0"]["mu_product"] = float("nan")
    with pytest.raises(ValueError, match="state 'mu_product' of parameter 0 is nan, not a finite"):
        fresh.load_state_dict(saved)


def test_a_state_of_another_variant_is_refused():
    p = ad.tensor([1.0, 2.0], requires_grad=True)
    radam = RAdam([p])
    p.grad = ad.tensor([0.5, -0.5])
    radam.step()
    with pytest.raises(ValueError, match="saved by RAdam, not by NAdam"):
        NAdam([p]).load_state_dict(radam.state_dict())
