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
    (lambda o: S.CosineAnnealingLR(o, 0), "T_max must be positive"),
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
