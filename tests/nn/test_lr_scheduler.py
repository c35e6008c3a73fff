"""Schedules against their closed forms, and against PyTorch's schedulers when it is installed."""

import math
import warnings

import numpy as np
import pytest

import autodiff as ad
import nn
from nn.optim import lr_scheduler as S


def lrs(make, epochs=12, lr=1.0):
    opt = nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=lr)
    sched = make(opt)
    out = []
    for _ in range(epochs):
        out.append(sched.get_last_lr()[0])
        sched.step()
    return out


def test_closed_forms():
    assert lrs(lambda o: S.StepLR(o, 3, 0.5)) == [0.5 ** (e // 3) for e in range(12)]
    assert lrs(lambda o: S.MultiStepLR(o, [2, 5], 0.1)) == pytest.approx(
        [1, 1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01])
    assert lrs(lambda o: S.ExponentialLR(o, 0.9)) == pytest.approx([0.9 ** e for e in range(12)])
    assert lrs(lambda o: S.CosineAnnealingLR(o, 10, 0.1)) == pytest.approx(
        [0.1 + 0.9 * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(12)])
    assert lrs(lambda o: S.InverseTimeDecay(o, 0.5, 2)) == pytest.approx(
        [1 / (1 + 0.5 * (e // 2)) for e in range(12)])
    warm = lrs(lambda o: S.LinearWarmup(o, 4, 0.2))
    assert warm[:5] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0]) and warm[-1] == 1.0


@pytest.mark.parametrize("t_max, eta_min", [(1, 0.0), (4, 0.0), (7, 0.05), (10, 0.1)])
def test_cosine_past_t_max_rises_again_with_period_two_t_max(t_max, eta_min):
    """PyTorch's schedule (its documented closed form) past T_max: it does not hold at eta_min."""
    base = 0.5
    got = lrs(lambda o: S.CosineAnnealingLR(o, t_max, eta_min), epochs=3 * t_max + 1, lr=base)
    closed = [eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / t_max)) / 2
              for e in range(3 * t_max + 1)]
    assert got == pytest.approx(closed, rel=1e-12, abs=1e-15)
    assert got[t_max] == pytest.approx(eta_min) and got[2 * t_max] == pytest.approx(base)
    assert got[3 * t_max] == pytest.approx(eta_min)
    for k in range(1, t_max + 1):  # mirror image around T_max: back up, not flat
        assert got[t_max + k] == pytest.approx(got[t_max - k], rel=1e-12, abs=1e-15)


def test_warmup_then_cosine():
    def make(o):
        after = S.CosineAnnealingLR(o, 8)
        return S.LinearWarmup(o, 2, 0.5, after=after)

    out = lrs(make)
    assert out[:3] == pytest.approx([0.5, 0.75, 1.0])
    assert out[3] == pytest.approx((1 + math.cos(math.pi / 8)) / 2)


def test_state_dict_and_errors():
    opt = nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=1.0)
    s = S.StepLR(opt, 2)
    s.step()
    s.step()
    state = s.state_dict()
    s2 = S.StepLR(nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=1.0), 2)
    s2.load_state_dict(state)
    assert s2.last_epoch == 2
    with pytest.raises(ValueError, match="step_size"):
        S.StepLR(opt, 0)


@pytest.mark.parametrize("make, message", [
    (lambda o: S.CosineAnnealingLR(o, 0), "T_max must be a number > 0, got 0"),
    (lambda o: S.InverseTimeDecay(o, -1.0), "decay_rate must be >= 0"),
    (lambda o: S.InverseTimeDecay(o, 1.0, time_interval=0), "time_interval > 0"),
    (lambda o: S.LinearWarmup(o, 0), "warmup_epochs > 0"),
    (lambda o: S.LinearWarmup(o, 3, start_factor=0.0), "start_factor"),
])
def test_bad_schedule_arguments(make, message):
    opt = nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match=message):
        make(opt)


def pairs(T):
    """{name: (our scheduler, PyTorch's)} given torch.optim.lr_scheduler as T; PyTorch has no
    InverseTimeDecay, so a LambdaLR with the same formula stands in for it."""
    return {
        "StepLR": (lambda o: S.StepLR(o, 3, 0.5), lambda o: T.StepLR(o, 3, 0.5)),
        "MultiStepLR": (lambda o: S.MultiStepLR(o, [9, 2, 5, 9], 0.3),
                        lambda o: T.MultiStepLR(o, [9, 2, 5, 9], 0.3)),
        "ExponentialLR": (lambda o: S.ExponentialLR(o, 0.93), lambda o: T.ExponentialLR(o, 0.93)),
        "CosineAnnealingLR": (lambda o: S.CosineAnnealingLR(o, 7, 0.01),
                              lambda o: T.CosineAnnealingLR(o, 7, 0.01)),
        "CosineAnnealingLR-eta0": (lambda o: S.CosineAnnealingLR(o, 10),
                                   lambda o: T.CosineAnnealingLR(o, 10)),
        "LinearWarmup": (lambda o: S.LinearWarmup(o, 4, 0.2), lambda o: T.LinearLR(o, 0.2, 1.0, 4)),
        "LinearWarmup-then-cosine": (
            lambda o: S.LinearWarmup(o, 3, 0.2, after=S.CosineAnnealingLR(o, 6)),
            lambda o: T.SequentialLR(o, [T.LinearLR(o, 0.2, 1.0, 3), T.CosineAnnealingLR(o, 6)],
                                     [3])),
        "InverseTimeDecay": (lambda o: S.InverseTimeDecay(o, 0.5, 3),
                             lambda o: T.LambdaLR(o, lambda e: 1 / (1 + 0.5 * (e // 3)))),
    }


SCHEDULES = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
             "CosineAnnealingLR-eta0", "LinearWarmup", "LinearWarmup-then-cosine",
             "InverseTimeDecay"]


@pytest.mark.parametrize("name", SCHEDULES)
def test_every_schedule_matches_pytorch_step_by_step(name):
    """Two parameter groups, 60 epochs (several cosine periods): the same learning rates."""
    torch = pytest.importorskip("torch", reason="compare with PyTorch's schedulers")
    ours_make, theirs_make = pairs(torch.optim.lr_scheduler)[name]
    ours = nn.optim.SGD([{"params": [ad.ones(1, requires_grad=True)]},
                         {"params": [ad.ones(1, requires_grad=True)], "lr": 0.3}], lr=0.7)
    theirs = torch.optim.SGD([{"params": [torch.ones(1, requires_grad=True)]},
                              {"params": [torch.ones(1, requires_grad=True)], "lr": 0.3}], lr=0.7)
    a, b = ours_make(ours), theirs_make(theirs)
    got, want = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's SequentialLR warns about its own internals
        for _ in range(60):
            got.append(a.get_last_lr())
            want.append(b.get_last_lr())
            theirs.step()
            a.step()
            b.step()
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("make", [
    lambda o: S.StepLR(o, 2, gamma=0.5), lambda o: S.MultiStepLR(o, [1, 3]),
    lambda o: S.ExponentialLR(o, 0.9), lambda o: S.CosineAnnealingLR(o, 5),
    lambda o: S.InverseTimeDecay(o, 0.5),
    lambda o: S.LinearWarmup(o, 2, 0.1, after=S.CosineAnnealingLR(o, 4)),
], ids=["step", "multistep", "exponential", "cosine", "inverse-time", "warmup-cosine"])
def test_a_schedule_resumed_from_a_checkpoint_file_continues_exactly(make, tmp_path):
    def fresh():
        opt = nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=0.3)
        return opt, make(opt)

    opt, sched = fresh()
    straight = []
    for _ in range(7):
        sched.step()
        straight.append(opt.param_groups[0]["lr"])
    opt, sched = fresh()
    for _ in range(3):
        sched.step()
    nn.save({"sched": sched.state_dict(), "opt": opt.state_dict()}, tmp_path / "c.npz")
    opt, sched = fresh()
    ck = nn.load(tmp_path / "c.npz")
    sched.load_state_dict(ck["sched"])
    opt.load_state_dict(ck["opt"])
    resumed = straight[:3]
    for _ in range(4):
        sched.step()
        resumed.append(opt.param_groups[0]["lr"])
    assert resumed == straight


def test_another_schedules_state_is_refused():
    opt = nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=1.0)
    cosine = S.CosineAnnealingLR(opt, 4)
    with pytest.raises(ValueError, match=r"CosineAnnealingLR.load_state_dict: the state has "
                                         r"\['gamma', 'step_size'\]"):
        cosine.load_state_dict(S.StepLR(opt, 2).state_dict())
    assert cosine.T_max == 4 and not hasattr(cosine, "step_size")


# -- LambdaLR, CosineAnnealingWarmRestarts, OneCycleLR, SequentialLR, ChainedScheduler,
#    ReduceLROnPlateau: against PyTorch over whole schedules, closed forms, resuming, errors


def two_groups(lib, opt_name="SGD", **kw):
    """An optimizer (ours or PyTorch's) over two groups with their own learning rates."""
    if lib == "ours":
        p, q = ad.ones(1, requires_grad=True), ad.ones(1, requires_grad=True)
        cls = getattr(nn.optim, opt_name)
    else:
        p, q = lib.ones(1, requires_grad=True), lib.ones(1, requires_grad=True)
        cls = getattr(lib.optim, opt_name)
    return cls([{"params": [p]}, {"params": [q], "lr": 0.3}], lr=0.7, **kw)


class Scale:
    """A callable object as a LambdaLR lambda: its attributes are saved with the schedule."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate ** epoch


MORE = {  # name: (optimizer kwargs, ours(S, opt), theirs(T, opt), steps, metrics or None)
    "LambdaLR": ({}, lambda S, o: S.LambdaLR(o, lambda e: 1 / (1 + e) ** 0.5),
                 lambda T, o: T.LambdaLR(o, lambda e: 1 / (1 + e) ** 0.5), 40),
    "LambdaLR-per-group": ({}, lambda S, o: S.LambdaLR(o, [Scale(0.9), lambda e: e % 3 + 1]),
                           lambda T, o: T.LambdaLR(o, [Scale(0.9), lambda e: e % 3 + 1]), 40),
    "WarmRestarts": ({}, lambda S, o: S.CosineAnnealingWarmRestarts(o, 7),
                     lambda T, o: T.CosineAnnealingWarmRestarts(o, 7), 60),
    "WarmRestarts-mult": ({}, lambda S, o: S.CosineAnnealingWarmRestarts(o, 3, 2, 0.01),
                          lambda T, o: T.CosineAnnealingWarmRestarts(o, 3, 2, 0.01), 100),
    "OneCycle-sgd": ({"momentum": 0.9}, lambda S, o: S.OneCycleLR(o, 1.0, total_steps=50),
                     lambda T, o: T.OneCycleLR(o, 1.0, total_steps=50), 50),
    "OneCycle-adam-linear-three-phase": (
        {"opt": "Adam"},
        lambda S, o: S.OneCycleLR(o, [0.01, 0.02], epochs=5, steps_per_epoch=9, pct_start=0.25,
                                  anneal_strategy="linear", three_phase=True,
                                  base_momentum=[0.8, 0.7], max_momentum=0.9, div_factor=10.0,
                                  final_div_factor=100.0),
        lambda T, o: T.OneCycleLR(o, [0.01, 0.02], epochs=5, steps_per_epoch=9, pct_start=0.25,
                                  anneal_strategy="linear", three_phase=True,
                                  base_momentum=[0.8, 0.7], max_momentum=0.9, div_factor=10.0,
                                  final_div_factor=100.0), 45),
    "OneCycle-no-momentum": ({"opt": "Adagrad"},
                             lambda S, o: S.OneCycleLR(o, 0.1, total_steps=30,
                                                       cycle_momentum=False),
                             lambda T, o: T.OneCycleLR(o, 0.1, total_steps=30,
                                                       cycle_momentum=False), 30),
    "SequentialLR": ({}, lambda S, o: S.SequentialLR(
        o, [S.LinearWarmup(o, 4, 0.25), S.CosineAnnealingLR(o, 10, 0.01),
            S.ExponentialLR(o, 0.9)], [4, 14]),
        lambda T, o: T.SequentialLR(o, [T.LinearLR(o, 0.25, 1.0, 4),
                                        T.CosineAnnealingLR(o, 10, 0.01),
                                        T.ExponentialLR(o, 0.9)], [4, 14]), 40),
    "SequentialLR-lambda-step": ({}, lambda S, o: S.SequentialLR(
        o, [S.LambdaLR(o, lambda e: (e + 1) / 5), S.StepLR(o, 3, 0.5)], [5]),
        lambda T, o: T.SequentialLR(o, [T.LambdaLR(o, lambda e: (e + 1) / 5),
                                        T.StepLR(o, 3, 0.5)], [5]), 30),
    "ChainedScheduler": ({}, lambda S, o: S.ChainedScheduler(
        [S.ExponentialLR(o, 0.95), S.MultiStepLR(o, [5, 9], 0.5), S.StepLR(o, 4, 0.8)]),
        lambda T, o: T.ChainedScheduler(
            [T.ExponentialLR(o, 0.95), T.MultiStepLR(o, [5, 9], 0.5), T.StepLR(o, 4, 0.8)]),
        40),
    "ChainedScheduler-warmup-cosine": ({}, lambda S, o: S.ChainedScheduler(
        [S.LinearWarmup(o, 5, 0.1), S.CosineAnnealingLR(o, 20)]),
        lambda T, o: T.ChainedScheduler([T.LinearLR(o, 0.1, 1.0, 5),
                                         T.CosineAnnealingLR(o, 20)]), 20),
}
METRICS = [1.0, 0.9, 0.95, 0.9, 0.9, 0.91, 0.85, 0.85, 0.86, 0.87, 0.88, 0.84, 0.8401, 0.9,
           0.9, 0.9, 0.9, float("nan"), 0.7, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75, 0.76]
PLATEAUS = {
    "min-rel": {"patience": 2},
    "min-abs-cooldown": {"patience": 1, "threshold": 0.01, "threshold_mode": "abs",
                         "cooldown": 2, "factor": 0.5},
    "max-rel-min-lr": {"mode": "max", "patience": 0, "factor": 0.5, "min_lr": [0.1, 0.01]},
    "max-abs-eps": {"mode": "max", "patience": 1, "threshold_mode": "abs", "eps": 0.2,
                    "factor": 0.5},
}


def momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum", 0.0) for g in opt.param_groups]


@pytest.mark.parametrize("name", list(MORE))
def test_more_schedules_match_pytorch_over_the_whole_schedule(name):
    """Two groups, every step of the schedule: the same learning rates and momenta (measured:
    equal, or 1 ulp apart)."""
    torch = pytest.importorskip("torch", reason="compare with PyTorch's schedulers")
    kw, ours_make, theirs_make, steps = MORE[name]
    kw = dict(kw)
    opt_name = kw.pop("opt", "SGD")
    ours, theirs = two_groups("ours", opt_name, **kw), two_groups(torch, opt_name, **kw)
    a = ours_make(nn.optim.lr_scheduler, ours)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = theirs_make(torch.optim.lr_scheduler, theirs)
        got, want = [], []
        for _ in range(steps):
            got.append(a.get_last_lr() + momenta(ours))
            want.append(b.get_last_lr() + momenta(theirs))
            theirs.step()
            a.step()
            b.step()
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", list(PLATEAUS))
def test_reduce_lr_on_plateau_matches_pytorch(name):
    torch = pytest.importorskip("torch", reason="compare with PyTorch's schedulers")
    ours, theirs = two_groups("ours"), two_groups(torch)
    a = S.ReduceLROnPlateau(ours, **PLATEAUS[name])
    b = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **PLATEAUS[name])
    metrics = METRICS if PLATEAUS[name].get("mode") != "max" else [-m for m in METRICS]
    got, want = [], []
    for m in metrics:
        a.step(m)
        b.step(m)
        got.append([*a.get_last_lr(), a.num_bad_epochs, a.cooldown_counter])
        want.append([*b.get_last_lr(), b.num_bad_epochs, b.cooldown_counter])
    assert got == want
    assert got[-1][:2] != [0.7, 0.3]  # it reduced


def test_warm_restarts_with_fractional_epochs_match_pytorch():
    """PyTorch's documented pattern: step(epoch + i / iters) inside each epoch's batches, then
    plain step()s: the same rates, fractions carried on as PyTorch does."""
    torch = pytest.importorskip("torch", reason="compare with PyTorch's schedulers")
    ours, theirs = two_groups("ours"), two_groups(torch)
    a = S.CosineAnnealingWarmRestarts(ours, 4, 2, 0.05)
    b = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(theirs, 4, 2, 0.05)
    got, want = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in range(20):
            for i in range(5):
                a.step(epoch + i / 5)
                b.step(epoch + i / 5)
                got.append([*a.get_last_lr(), a.T_cur, a.T_i, a.last_epoch])
                want.append([*b.get_last_lr(), b.T_cur, b.T_i, b.last_epoch])
        a.step(2.5)
        b.step(2.5)
        for _ in range(10):
            a.step()
            b.step()
            got.append([*a.get_last_lr(), a.T_cur, a.T_i, a.last_epoch])
            want.append([*b.get_last_lr(), b.T_cur, b.T_i, b.last_epoch])
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-13, atol=1e-15)


def test_warm_restarts_restart_exactly_where_pytorchs_logarithm_misses_one():
    """T_0=10, T_mult=10: cycles end at 10, 110, 1110. PyTorch's step(1110) takes
    log10(1000) = 2.9999999999999996 for 3 and stays in the 100-epoch cycle at its end
    (eta_min); counting cycles, as its own step() does, restarts there (lr0)."""
    opt = nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=1.0)
    sched = S.CosineAnnealingWarmRestarts(opt, 10, 10)
    sched.step(1110)
    assert (sched.T_cur, sched.T_i, sched.get_last_lr()) == (0, 10000, [1.0])
    sched.step(1109.5)
    assert (sched.T_cur, sched.T_i) == (999.5, 1000)
    assert math.log(1110 / 10 * 9 + 1, 10) < 3  # PyTorch's computation of the cycle


def test_one_cycle_closed_form_points():
    opt = nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=0.1, momentum=0.5)
    sched = S.OneCycleLR(opt, max_lr=2.0, total_steps=21, pct_start=0.5, div_factor=4.0,
                         final_div_factor=5.0, anneal_strategy="linear")
    lrs, moms = [], []
    for step in range(21):
        lrs.append(sched.get_last_lr()[0])
        moms.append(opt.param_groups[0]["momentum"])
        if step < 20:
            sched.step()
    assert opt.param_groups[0]["initial_lr"] == 0.5
    assert lrs[0] == 0.5 and moms[0] == 0.95  # max_lr / div_factor, max_momentum
    # the peak at pct_start * total - 1 = 9.5: step 9 is 1/19 short of it (linear)
    assert lrs[9] == pytest.approx(0.5 + 1.5 * 9 / 9.5) and lrs[10] < lrs[9]
    assert lrs[20] == pytest.approx(0.5 / 5.0) and moms[20] == pytest.approx(0.95)
    assert min(moms) == pytest.approx(0.85 + 0.1 * (0.5 / 10.5), abs=1e-12)
    with pytest.raises(ValueError, match=r"OneCycleLR.step: stepped 22 times, but total_steps "
                                         r"is 21"):
        sched.step()
        sched.step()


def test_one_cycle_sets_adams_beta1_and_keeps_beta2():
    opt = nn.optim.Adam([ad.ones(1, requires_grad=True)], betas=(0.9, 0.98))
    sched = S.OneCycleLR(opt, 0.01, total_steps=10)
    assert opt.param_groups[0]["betas"] == (0.95, 0.98)
    for _ in range(3):
        sched.step()
    assert opt.param_groups[0]["betas"][1] == 0.98 and opt.param_groups[0]["betas"][0] < 0.95


def test_sequential_and_chained_closed_forms():
    opt = nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=1.0)
    seq = lrs(lambda o: S.SequentialLR(o, [S.ExponentialLR(o, 0.5), S.StepLR(o, 2, 0.1)], [3]),
              epochs=8)
    assert seq == pytest.approx([1, 0.5, 0.25, 1, 1, 0.1, 0.1, 0.01])
    chain = lrs(lambda o: S.ChainedScheduler([S.ExponentialLR(o, 0.5),
                                              S.CosineAnnealingLR(o, 4)]), epochs=5)
    assert chain == pytest.approx([0.5 ** e * (1 + math.cos(math.pi * e / 4)) / 2
                                   for e in range(5)])
    assert opt.param_groups[0]["lr"] == 1.0


def test_reduce_lr_on_plateau_by_hand():
    opt = nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=1.0)
    sched = S.ReduceLROnPlateau(opt, patience=1, cooldown=1, factor=0.5, min_lr=0.2)
    seen = []
    for m in [5, 4, 4, 4, 4, 4, 4, 4, 3]:
        sched.step(m)
        seen.append(sched.get_last_lr()[0])
    # bad epochs after 4: 1, 2 > patience -> 0.5; cooldown eats one; 1, 2 -> 0.25; ... 0.2
    assert seen == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    for m in [3] * 6:
        sched.step(m)
    assert sched.get_last_lr() == [0.2]  # not below min_lr


RESUMABLE = {
    "LambdaLR": lambda o: S.LambdaLR(o, Scale(0.8)),
    "WarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(o, 3, 2),
    "OneCycle": lambda o: S.OneCycleLR(o, 1.0, total_steps=20),
    "SequentialLR": lambda o: S.SequentialLR(o, [S.LinearWarmup(o, 3, 0.1),
                                                 S.CosineAnnealingLR(o, 6)], [3]),
    "ChainedScheduler": lambda o: S.ChainedScheduler([S.ExponentialLR(o, 0.9),
                                                      S.StepLR(o, 3, 0.5)]),
    "ReduceLROnPlateau": lambda o: S.ReduceLROnPlateau(o, patience=1, cooldown=1),
}


@pytest.mark.parametrize("name", list(RESUMABLE))
def test_more_schedules_resume_from_a_checkpoint_file_exactly(name, tmp_path):
    def fresh():
        opt = two_groups("ours", momentum=0.9)
        return opt, RESUMABLE[name](opt)

    def advance(opt, sched, n, start):
        out = []
        for i in range(start, start + n):
            if isinstance(sched, S.ReduceLROnPlateau):
                sched.step([3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1][i])
            else:
                sched.step()
            out.append([g["lr"] for g in opt.param_groups] + momenta(opt))
        return out

    opt, sched = fresh()
    straight = advance(opt, sched, 12, 0)
    opt, sched = fresh()
    first = advance(opt, sched, 5, 0)
    nn.save({"sched": sched.state_dict(), "opt": opt.state_dict()}, tmp_path / "c.npz")
    opt, sched = fresh()
    ck = nn.load(tmp_path / "c.npz")
    opt.load_state_dict(ck["opt"])
    sched.load_state_dict(ck["sched"])
    assert first + advance(opt, sched, 7, 5) == straight


def test_lambda_lr_saves_a_callable_objects_attributes_and_not_a_function():
    opt = two_groups("ours")
    sched = S.LambdaLR(opt, [Scale(0.5), lambda e: 1.0])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]
    other = S.LambdaLR(two_groups("ours"), [Scale(0.9), lambda e: 1.0])
    other.load_state_dict(state)
    assert other.lr_lambdas[0].rate == 0.5
    with pytest.raises(ValueError, match=r"LambdaLR.load_state_dict: 'lr_lambdas' should hold"):
        S.LambdaLR(two_groups("ours"), lambda e: 1.0).load_state_dict(state)


@pytest.mark.parametrize("make, error, match", [
    (lambda o: S.LambdaLR(o, [lambda e: 1.0]), ValueError, "expected 2 lr_lambdas"),
    (lambda o: S.LambdaLR(o, 0.5), TypeError, "lr_lambda must be callable, got float"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 0), ValueError, "T_0 must be an integer >= 1"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 2.5), ValueError, "T_0 must be an integer"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 3, 0), ValueError, "T_mult must be an integer"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 3, eta_min=float("nan")), ValueError,
     "eta_min must be a number >= 0, got nan"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 3).step(-1), ValueError,
     r"step: epoch must be a number >= 0, got -1"),
    (lambda o: S.OneCycleLR(o, 1.0), ValueError, "give total_steps, or epochs and steps_per"),
    (lambda o: S.OneCycleLR(o, 1.0, total_steps=0), ValueError, "total_steps must be an int"),
    (lambda o: S.OneCycleLR(o, 1.0, epochs=2, steps_per_epoch=0), ValueError,
     "steps_per_epoch must be an integer >= 1, got 0"),
    (lambda o: S.OneCycleLR(o, 1.0, total_steps=10, pct_start=1.5), ValueError,
     r"pct_start must be a number in \[0, 1\], got 1.5"),
    (lambda o: S.OneCycleLR(o, 1.0, total_steps=10, pct_start=0.1), ValueError,
     "makes a phase of no steps"),
    (lambda o: S.OneCycleLR(o, 1.0, total_steps=10, anneal_strategy="exp"), ValueError,
     "anneal_strategy must be 'cos' or 'linear', got 'exp'"),
    (lambda o: S.OneCycleLR(o, [1.0], total_steps=10), ValueError,
     "max_lr has 1 values, the optimizer 2 parameter groups"),
    (lambda o: S.OneCycleLR(o, float("inf"), total_steps=10), ValueError,
     "max_lr must be a number >= 0, got inf"),
    (lambda o: S.OneCycleLR(o, 1.0, total_steps=10, div_factor=0.0), ValueError,
     "div_factor must be a number > 0"),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 2)], [3]), ValueError, "expected 0 milestones"),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 2), S.StepLR(o, 2)], [5, 3]),
     ValueError, r"milestones must be increasing integers, got \[5, 3\]"),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 2), S.ReduceLROnPlateau(o)], [3]), TypeError,
     "scheduler 1 is ReduceLROnPlateau, not a schedule of the epoch"),
    (lambda o: S.ChainedScheduler([]), ValueError, "expected at least one scheduler"),
    (lambda o: S.ChainedScheduler([S.StepLR(o, 2), S.StepLR(two_groups("ours"), 2)]),
     ValueError, r"scheduler 1 \(StepLR\) belongs to another optimizer"),
    (lambda o: S.ReduceLROnPlateau(o, factor=1.0), ValueError, r"factor must be a number in "
                                                               r"\[0, 1\), got 1.0"),
    (lambda o: S.ReduceLROnPlateau(o, mode="least"), ValueError, "mode must be 'min' or 'max'"),
    (lambda o: S.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold_mode must be"),
    (lambda o: S.ReduceLROnPlateau(o, patience=-1), ValueError, "patience must be an integer"),
    (lambda o: S.ReduceLROnPlateau(o, threshold=float("nan")), ValueError,
     "threshold must be a number >= 0, got nan"),
    (lambda o: S.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, r"min_lr must be a number >= "
                                                                 r"0 or one per group \(2\)"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_arguments_of_the_new_schedules(make, error, match):
    with pytest.raises(error, match=match):
        make(two_groups("ours", momentum=0.9))


def test_one_cycle_needs_momentum_or_betas_to_cycle():
    opt = nn.optim.Adagrad([ad.ones(1, requires_grad=True)])
    with pytest.raises(ValueError, match="OneCycleLR: cycle_momentum needs an optimizer with "
                                         "momentum or betas, Adagrad has neither"):
        S.OneCycleLR(opt, 1.0, total_steps=10)


@pytest.mark.parametrize("make, key, value, match", [
    (lambda o: S.OneCycleLR(o, 1.0, total_steps=10), "last_epoch", "3", "not a number"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 3), "T_cur", float("nan"), "not a number"),
    (lambda o: S.ReduceLROnPlateau(o), "mode", "least", "mode must be 'min' or 'max'"),
    (lambda o: S.ReduceLROnPlateau(o), "min_lrs", [0.0], "not a list of 2"),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 3)], [2]), "schedulers", [{}],
     "'schedulers' should hold the states of 2 schedules"),
])
def test_a_corrupt_schedule_state_is_refused(make, key, value, match):
    sched = make(two_groups("ours", momentum=0.9))
    state = sched.state_dict()
    state[key] = value
    with pytest.raises(ValueError, match=match):
        sched.load_state_dict(state)
