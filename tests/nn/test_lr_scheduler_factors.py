"""LinearLR, ConstantLR, PolynomialLR, MultiplicativeLR and CyclicLR: closed forms by hand,
PyTorch's rates and momenta step by step (two groups, SGD and Adam), a mid-run checkpoint
resumed to the same rates, and their argument errors."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn

S = nn.optim.lr_scheduler


def two_groups(lib, opt="SGD"):
    tensor = ad if lib is None else lib
    optim = nn.optim if lib is None else lib.optim
    p, q = tensor.zeros(2, requires_grad=True), tensor.zeros(1, requires_grad=True)
    kw = {"momentum": 0.9} if opt == "SGD" else {}
    return getattr(optim, opt)([{"params": [p]}, {"params": [q], "lr": 0.3}], lr=0.7, **kw)


def rates(opt):
    return [g["lr"] for g in opt.param_groups] + [
        g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


CASES = {  # name: (optimizer, schedule(S, opt), steps)
    "LinearLR": ("SGD", lambda S, o: S.LinearLR(o, 0.2, 0.9, total_iters=7), 12),
    "LinearLR-default": ("Adam", lambda S, o: S.LinearLR(o), 8),
    "ConstantLR": ("SGD", lambda S, o: S.ConstantLR(o, 0.25, total_iters=4), 8),
    "PolynomialLR": ("Adam", lambda S, o: S.PolynomialLR(o, total_iters=6, power=1.7), 10),
    "MultiplicativeLR": ("SGD", lambda S, o: S.MultiplicativeLR(
        o, [lambda e: 0.9, lambda e: 1 / (1 + 0.1 * e)]), 15),
    "CyclicLR-triangular": ("SGD", lambda S, o: S.CyclicLR(o, 0.01, [0.5, 0.2], 3, 5), 30),
    "CyclicLR-triangular2": ("Adam", lambda S, o: S.CyclicLR(
        o, [0.01, 0.02], 0.4, 4, mode="triangular2", base_momentum=0.7, max_momentum=0.95), 40),
    "CyclicLR-exp_range": ("SGD", lambda S, o: S.CyclicLR(o, 0.01, 0.3, 2, 3, mode="exp_range",
                                                          gamma=0.97), 30),
    "CyclicLR-scale_fn-iterations": ("SGD", lambda S, o: S.CyclicLR(
        o, 0.01, 0.3, 3, scale_fn=lambda x: 1 / (1 + 0.05 * x), scale_mode="iterations",
        cycle_momentum=False), 25),
    "CyclicLR-scale_fn-cycle": ("Adam", lambda S, o: S.CyclicLR(
        o, 0.01, 0.3, 3, scale_fn=lambda c: 0.5 ** c), 25),
}


def run(make, opt_name, steps, lib=None):
    sched_module = S if lib is None else lib.optim.lr_scheduler
    opt = two_groups(lib, opt_name)
    sched = make(sched_module, opt)
    out = [rates(opt)]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(rates(opt))
    return np.array(out)


@pytest.mark.parametrize("name", CASES)
def test_against_pytorch(name):
    torch = pytest.importorskip("torch", reason="torch.optim.lr_scheduler is the reference")
    opt_name, make, steps = CASES[name]
    np.testing.assert_allclose(run(make, opt_name, steps),
                               run(make, opt_name, steps, lib=torch), rtol=1e-13, atol=0)


@pytest.mark.parametrize("name", CASES)
def test_a_checkpoint_mid_run_resumes_to_the_same_rates(name, tmp_path):
    opt_name, make, steps = CASES[name]
    whole = run(make, opt_name, steps)
    opt = two_groups(None, opt_name)
    sched = make(S, opt)
    for _ in range(steps // 2):
        sched.step()
    nn.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "c.npz")
    ckpt = nn.load(tmp_path / "c.npz")
    opt = two_groups(None, opt_name)
    sched = make(S, opt)
    sched.step()  # somewhere else: the load puts it back
    opt.load_state_dict(ckpt["opt"])
    sched.load_state_dict(ckpt["sched"])
    got = [rates(opt)]
    for _ in range(steps - steps // 2):
        sched.step()
        got.append(rates(opt))
    np.testing.assert_array_equal(np.array(got), whole[steps // 2:])


def test_closed_forms_by_hand():
    lrs = run(lambda S, o: S.LinearLR(o, 0.5, 0.0, total_iters=2), "SGD", 3)[:, 0]
    np.testing.assert_allclose(lrs, [0.35, 0.175, 0.0, 0.0])
    lrs = run(lambda S, o: S.PolynomialLR(o, total_iters=2, power=0.5), "SGD", 3)[:, 1]
    np.testing.assert_allclose(lrs, [0.3, 0.3 * math.sqrt(0.5), 0.0, 0.0])
    calls = []
    lrs = run(lambda S, o: S.MultiplicativeLR(o, lambda e: calls.append(e) or 2.0), "SGD", 3)
    np.testing.assert_allclose(lrs[:, 0], [0.7, 1.4, 2.8, 5.6])
    assert calls == [1, 1, 2, 2, 3, 3]  # once per epoch and group, as PyTorch
    cyc = run(lambda S, o: S.CyclicLR(o, 0.1, 0.5, 2, 1, mode="triangular2"), "SGD", 7)
    np.testing.assert_allclose(cyc[:, 0], [0.1, 0.3, 0.5, 0.1, 0.2, 0.3, 0.1, 0.15])
    np.testing.assert_allclose(cyc[:, 2], [0.9, 0.85, 0.8, 0.9, 0.875, 0.85, 0.9, 0.8875])


@pytest.mark.parametrize("make, match", [
    (lambda o: S.LinearLR(o, 0.0), r"LinearLR: start_factor must be a number in \(0, 1\]"),
    (lambda o: S.LinearLR(o, 0.5, 1.5), r"end_factor must be a number in \[0, 1\], got 1.5"),
    (lambda o: S.LinearLR(o, total_iters=0), r"total_iters must be an integer >= 1, got 0"),
    (lambda o: S.ConstantLR(o, 1.5), r"ConstantLR: factor must be a number in \[0, 1\]"),
    (lambda o: S.ConstantLR(o, 0.5, total_iters=0), r"ConstantLR: total_iters=0 makes a "),
    (lambda o: S.PolynomialLR(o, power=-1.0), r"PolynomialLR: power must be a number >= 0"),
    (lambda o: S.PolynomialLR(o, total_iters=2.5), r"total_iters must be an integer >= 1"),
    (lambda o: S.CyclicLR(o, -0.1, 1.0), r"CyclicLR: base_lr must be a number >= 0, got -0.1"),
    (lambda o: S.CyclicLR(o, 0.1, [1.0]), r"max_lr has 1 values, the optimizer 2 parameter"),
    (lambda o: S.CyclicLR(o, 0.1, 1.0, 0), r"step_size_up must be a number > 0, got 0"),
    (lambda o: S.CyclicLR(o, 0.1, 1.0, mode="cosine"), r"mode must be 'triangular', "),
    (lambda o: S.CyclicLR(o, 0.1, 1.0, scale_fn=abs, scale_mode="epoch"), r"scale_mode must"),
    (lambda o: S.CyclicLR(o, 0.1, 1.0, 2, scale_fn=lambda x: -1.0).step(),
     r"CyclicLR: the learning rate of group 0 at epoch 1 would be -0.35"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make(two_groups(None))


def test_cyclic_momentum_needs_an_optimizer_with_one():
    opt = nn.optim.Adagrad([ad.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="CyclicLR: cycle_momentum needs an optimizer with "):
        S.CyclicLR(opt, 0.1, 1.0)
    S.CyclicLR(opt, 0.1, 1.0, cycle_momentum=False).step()
