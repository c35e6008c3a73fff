"""LBFGS: its pieces against closed forms (no PyTorch needed), its iterates against
torch.optim.LBFGS step by step in float64 (Rosenbrock, logistic regression), and resumed
mid-run from a checkpoint file bit-identically."""

import copy

import numpy as np
import pytest

import autodiff as ad
import nn
from nn.optim.lbfgs import cubic_interpolate, strong_wolfe

LBFGS = nn.optim.LBFGS


# -- the problems, each written once for either library --------------------------------------


def rosenbrock(lib, x):
    return ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()


def logistic_data():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 4))
    y = (X @ [1.0, -2.0, 0.5, 0.0] + 0.3 * rng.standard_normal(40) > 0).astype(float)
    return X, y


def logistic(lib, w, b):
    """Mean binary cross-entropy of sigmoid(X w + b), plus a little L2 (keeps it bounded)."""
    X, y = logistic_data()
    X, y = (lib.tensor(X), lib.tensor(y))
    z = X @ w + b
    softplus = lib.log(1 + lib.exp(-lib.abs(z))) + lib.maximum(z, 0 * z)
    return (softplus - y * z).mean() + 0.01 * (w * w).sum()


PROBLEMS = {
    "rosenbrock-2": (rosenbrock, [np.array([-1.5, 2.0])]),
    "rosenbrock-6": (rosenbrock, [np.array([-1.2, 1.0, -0.5, 0.8, 1.3, -1.0])]),
    "logistic": (logistic, [np.zeros(4), np.zeros(1)]),
}


class Torch:
    """The few functions the problems use, as torch's."""

    def __init__(self, torch):
        self.t = torch

    def tensor(self, a):
        return self.t.tensor(a)

    def log(self, a):
        return self.t.log(a)

    def exp(self, a):
        return self.t.exp(a)

    def abs(self, a):
        return self.t.abs(a)

    def maximum(self, a, b):
        return self.t.maximum(a, b)


def iterates(lib, make_params, make_opt, f, steps):
    """(parameters, returned loss) after each of `steps` calls of opt.step(closure)."""
    params = make_params()
    opt = make_opt(params)

    def closure():
        opt.zero_grad()
        loss = f(lib, *params)
        loss.backward()
        return loss

    out = []
    for _ in range(steps):
        loss = opt.step(closure)
        out.append((np.concatenate([np.array(p.detach().numpy()).ravel() for p in params]),
                    float(loss.detach())))
    return out, opt


def ours(problem, options, steps=10):
    f, init = PROBLEMS[problem]
    return iterates(ad, lambda: [ad.tensor(a.copy(), requires_grad=True) for a in init],
                    lambda ps: LBFGS(ps, **options), f, steps)


def theirs(torch, problem, options, steps=10):
    f, init = PROBLEMS[problem]
    return iterates(Torch(torch),
                    lambda: [torch.tensor(a.copy(), requires_grad=True) for a in init],
                    lambda ps: torch.optim.LBFGS(ps, **options), f, steps)


OPTIONS = [
    {},
    {"line_search_fn": "strong_wolfe"},
    {"lr": 0.1, "max_iter": 7, "history_size": 3},
    {"line_search_fn": "strong_wolfe", "max_iter": 5, "max_eval": 6, "history_size": 2},
    {"line_search_fn": "strong_wolfe", "tolerance_grad": 1e-4, "tolerance_change": 1e-6},
]
CASES = [(p, i) for p in PROBLEMS for i in range(len(OPTIONS))]


def torch_state(state, torch):
    """Our LBFGS memory as PyTorch keeps it (tensors; numbers as 0-d float64 tensors)."""
    def conv(k, v):
        if isinstance(v, np.ndarray):
            return torch.tensor(v)
        if isinstance(v, list):
            return [conv(k, a) for a in v]
        return torch.tensor(v, dtype=torch.float64) if k in ("H_diag", "ro") else v
    return {k: conv(k, v) for k, v in state.items()}


@pytest.mark.parametrize("problem, option", CASES, ids=[f"{p}-{i}" for p, i in CASES])
def test_each_step_matches_pytorch_from_the_same_state(problem, option):
    """10 steps (each up to max_iter iterations); before each, PyTorch's LBFGS is given our
    parameters and memory: it then makes the same decisions (closure calls, iterations) and
    lands on the same point within 1e-9 (relative to max(1, |x|); measured: 1.4e-10, after 20
    iterations on the 6-D Rosenbrock; 1e-14 on the logistic regression). The differences are
    last-bit roundings (PyTorch's kernels fuse multiply-adds) that the iterations amplify."""
    torch = pytest.importorskip("torch", reason="compare with torch.optim.LBFGS")
    f, init = PROBLEMS[problem]
    params = [ad.tensor(a.copy(), requires_grad=True) for a in init]
    twins = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt, topt = LBFGS(params, **OPTIONS[option]), torch.optim.LBFGS(twins, **OPTIONS[option])

    def closure():
        opt.zero_grad()
        loss = f(ad, *params)
        loss.backward()
        return loss

    def tclosure():
        topt.zero_grad()
        loss = f(Torch(torch), *twins)
        loss.backward()
        return loss

    for _ in range(10):
        with torch.no_grad():
            for twin, p in zip(twins, params):
                twin.copy_(torch.tensor(p.data))
        topt.state.clear()
        if opt.state:
            topt.state[twins[0]] = torch_state(copy.deepcopy(opt.state[id(params[0])]), torch)
        assert float(opt.step(closure)) == pytest.approx(float(tclosure().detach()), rel=1e-14)
        topt.step(tclosure)
        np.testing.assert_allclose(np.concatenate([p.data.ravel() for p in params]),
                                   np.concatenate([t.detach().numpy().ravel() for t in twins]),
                                   rtol=1e-9, atol=1e-9)
        mine, theirs = opt.state[id(params[0])], topt.state[twins[0]]
        assert (mine["func_evals"], mine["n_iter"]) == (theirs["func_evals"], theirs["n_iter"])
        assert len(mine["old_dirs"]) == len(theirs["old_dirs"])


WELL_CONDITIONED = [("logistic", 0), ("logistic", 1), ("logistic", 3), ("logistic", 4),
                    ("rosenbrock-2", 1), ("rosenbrock-2", 4), ("rosenbrock-6", 2)]


@pytest.mark.parametrize("problem, option", WELL_CONDITIONED,
                         ids=[f"{p}-{i}" for p, i in WELL_CONDITIONED])
def test_whole_runs_match_pytorch(problem, option):
    """10 steps each library on its own: the same iterates within 1e-11 (measured: 4e-13), the
    same losses and closure calls, where the run does not amplify roundings; elsewhere (fixed
    steps on Rosenbrock) last-bit differences grow along the run to 1e-7 and more, so those
    are compared step by step above."""
    torch = pytest.importorskip("torch", reason="compare with torch.optim.LBFGS")
    got, opt = ours(problem, OPTIONS[option])
    want, topt = theirs(torch, problem, OPTIONS[option])
    for (x, loss), (x_t, loss_t) in zip(got, want):
        np.testing.assert_allclose(x, x_t, rtol=1e-11, atol=1e-11)
        assert loss == pytest.approx(loss_t, rel=1e-11, abs=1e-14)
    mine, torchs = next(iter(opt.state.values())), next(iter(topt.state.values()))
    assert (mine["func_evals"], mine["n_iter"]) == (torchs["func_evals"], torchs["n_iter"])


def test_rosenbrock_is_solved():
    got, _ = ours("rosenbrock-2", {"line_search_fn": "strong_wolfe"}, steps=5)
    np.testing.assert_allclose(got[-1][0], [1.0, 1.0], atol=1e-5)
    assert got[-1][1] < 1e-9
    got, _ = ours("rosenbrock-6", {"line_search_fn": "strong_wolfe"}, steps=10)
    assert got[-1][1] < 1e-10 or np.allclose(got[-1][0], 1.0, atol=1e-5)


def test_the_memory_keeps_at_most_history_size_pairs():
    _, opt = ours("rosenbrock-6", {"history_size": 3, "lr": 0.1}, steps=3)
    state = next(iter(opt.state.values()))
    assert len(state["old_dirs"]) == len(state["old_stps"]) == len(state["ro"]) == 3


def test_the_first_trial_step_is_kept_when_it_satisfies_the_wolfe_conditions():
    """f = |x - c|^2 from 0: d = -g = 2c, the first trial t = min(1, 1 / sum|g|) = 1/12
    already decreases f enough and flattens the slope enough (g.d from -4|c|^2 to
    -10/3 |c|^2, within c2 = 0.9), so x = t d = c / 6 after one iteration."""
    c = np.array([3.0, -1.0, 2.0])
    x = ad.tensor(np.zeros(3), requires_grad=True)
    opt = LBFGS([x], line_search_fn="strong_wolfe", max_iter=1)

    def closure():
        opt.zero_grad()
        loss = ((x - ad.tensor(c)) ** 2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == pytest.approx(14.0)
    np.testing.assert_allclose(x.data, c / 6, rtol=1e-12)
    assert opt.state[id(x)]["func_evals"] == 2


@pytest.mark.parametrize("options", [{}, {"line_search_fn": "strong_wolfe"}])
def test_resuming_from_a_checkpoint_file_mid_run_is_bit_identical(options, tmp_path):
    f, init = PROBLEMS["logistic"]
    straight, _ = ours("logistic", {**options, "max_iter": 4}, steps=6)

    def fresh(values):
        params = [ad.tensor(v.copy(), requires_grad=True) for v in values]
        return params, LBFGS(params, **options, max_iter=4)

    def run(params, opt, n):
        def closure():
            opt.zero_grad()
            loss = f(ad, *params)
            loss.backward()
            return loss
        for _ in range(n):
            opt.step(closure)

    params, opt = fresh(init)
    run(params, opt, 3)
    nn.save({"opt": opt.state_dict(), "params": [p.data for p in params]}, tmp_path / "c.npz")
    ck = nn.load(tmp_path / "c.npz")
    params, opt = fresh(ck["params"])
    opt.load_state_dict(ck["opt"])
    run(params, opt, 3)
    np.testing.assert_array_equal(np.concatenate([p.data.ravel() for p in params]),
                                  straight[-1][0])


def test_cubic_interpolate_closed_forms():
    # f = x^3 - 3x: minimum at 1 (from x = 0 and 2 with their values and slopes)
    assert cubic_interpolate(0.0, 0.0, -3.0, 2.0, 2.0, 9.0) == pytest.approx(1.0)
    assert cubic_interpolate(2.0, 2.0, 9.0, 0.0, 0.0, -3.0) == pytest.approx(1.0)  # reversed
    assert cubic_interpolate(0.0, 0.0, -3.0, 2.0, 2.0, 9.0, bounds=(1.5, 3.0)) == 1.5
    # no real minimum (d1^2 < g1 g2): the middle of the bounds
    assert cubic_interpolate(0.0, 0.0, 1.0, 1.0, 5 / 3, 4.0, bounds=(2.0, 4.0)) == 3.0


def test_strong_wolfe_conditions_hold_at_the_returned_step():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 5))
    A = A @ A.T + np.eye(5)

    def f(x, t, d):
        z = x[0] + t * d
        return float(z @ A @ z / 2 + np.sin(z).sum()), A @ z + np.cos(z)

    x = [rng.standard_normal(5)]
    f0, g0 = f(x, 0.0, np.zeros(5))
    d = -g0
    gtd = float(g0 @ d)
    f1, g1, t, n = strong_wolfe(f, x, 10.0, d, f0, g0, gtd)  # a far too long first step
    assert f1 <= f0 + 1e-4 * t * gtd and abs(g1 @ d) <= 0.9 * abs(gtd)
    assert (f1, n) == (f(x, t, d)[0], n) and 1 < n <= 25


def test_step_needs_a_closure():
    with pytest.raises(TypeError, match=r"LBFGS.step: needs a closure"):
        LBFGS([ad.ones(2, requires_grad=True)]).step()


@pytest.mark.parametrize("kwargs, match", [
    ({"lr": float("nan")}, "LBFGS: learning rate must be >= 0"),
    ({"lr": -1.0}, "LBFGS: learning rate must be >= 0"),
    ({"max_iter": 0}, "LBFGS: max_iter must be an integer >= 1, got 0"),
    ({"max_iter": 2.5}, "LBFGS: max_iter must be an integer >= 1, got 2.5"),
    ({"max_eval": 0}, "LBFGS: max_eval must be an integer >= 1, got 0"),
    ({"history_size": 0}, "LBFGS: history_size must be an integer >= 1, got 0"),
    ({"tolerance_grad": float("inf")}, "LBFGS: tolerance_grad must be >= 0"),
    ({"tolerance_change": float("nan")}, "LBFGS: tolerance_change must be >= 0"),
    ({"tolerance_change": -1.0}, "LBFGS: tolerance_change must be >= 0"),
    ({"line_search_fn": "armijo"}, "LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                                   "'armijo'"),
])
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LBFGS([ad.ones(2, requires_grad=True)], **kwargs)


def test_one_group_and_one_dtype():
    a, b = ad.ones(2, requires_grad=True), ad.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="LBFGS: takes one parameter group"):
        LBFGS([{"params": [a]}, {"params": [b]}])
    c = ad.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match=r"share one dtype, got \['float32', 'float64'\]"):
        LBFGS([a, c])


def stepped_state():
    _, opt = ours("logistic", {"max_iter": 4}, steps=2)
    return opt.state_dict()


def fresh_logistic():
    return LBFGS([ad.tensor(np.zeros(4), requires_grad=True),
                  ad.tensor(np.zeros(1), requires_grad=True)], max_iter=4)


@pytest.mark.parametrize("edit, match", [
    (lambda s: s["state"]["0"].update(d=np.zeros(4)),
     r"state 'd' has shape \(4,\) in the state but \(5,\) in the parameters \(flattened\)"),
    (lambda s: s["state"]["0"]["old_dirs"].pop(), "must be lists of one length"),
    (lambda s: s["state"]["0"].update(t=float("nan")), "state 't' is nan, not a finite number"),
    (lambda s: s["state"]["0"].update(n_iter=-1), "state 'n_iter' is -1, not a count >= 0"),
    (lambda s: s["state"]["0"].pop("H_diag"), r"the saved state holds .* LBFGS keeps"),
    (lambda s: s["state"].update({"1": {}}), "LBFGS keeps its memory in the state of parameter 0"),
    (lambda s: s["state"]["0"]["ro"].__setitem__(0, float("inf")), "'ro' must hold finite"),
    (lambda s: s["state"]["0"]["old_stps"].__setitem__(0, np.full(5, np.nan)),
     r"state 'old_stps\[0\]' holds 5 NaN"),
])
def test_a_corrupt_memory_is_refused_and_nothing_changes(edit, match):
    saved = stepped_state()
    edit(saved)
    opt = fresh_logistic()
    with pytest.raises(ValueError, match=r"^LBFGS.load_state_dict: .*" + match):
        opt.load_state_dict(saved)
    assert opt.state == {}


def test_another_optimizers_state_is_refused():
    p = ad.tensor(np.zeros(4), requires_grad=True)
    with pytest.raises(ValueError, match="saved by Adam, not by LBFGS"):
        LBFGS([p]).load_state_dict(nn.optim.Adam([p]).state_dict())
