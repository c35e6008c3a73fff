"""A rate the schedule did not set: PyTorch's recursive schedules (StepLR, MultiStepLR,
ExponentialLR, CosineAnnealingLR, LinearLR, ConstantLR, PolynomialLR, MultiplicativeLR) carry on
from a rate changed by hand, by ReduceLROnPlateau or by a second schedule stepped beside them
("chaining" schedules called one after the other); the closed forms here would overwrite it
silently, so `step()` refuses it. Schedules that set the rate from their base rates in PyTorch
too (LambdaLR, OneCycleLR, CyclicLR, warm restarts) overwrite it in both."""

import random
import warnings

import numpy as np
import pytest

import autodiff as ad
import nn

S = nn.optim.lr_scheduler


def sgd(lib=None, lr=1.0):
    if lib is None:
        return nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=lr)
    return lib.optim.SGD([lib.ones(1, requires_grad=True)], lr=lr)


RECURSIVE = {
    "StepLR": lambda L, o: L.StepLR(o, 2, 0.5),
    "MultiStepLR": lambda L, o: L.MultiStepLR(o, [1, 3], 0.5),
    "ExponentialLR": lambda L, o: L.ExponentialLR(o, 0.9),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, 5),
    "LinearLR": lambda L, o: L.LinearLR(o, 0.5, 1.0, 4),
    "ConstantLR": lambda L, o: L.ConstantLR(o, 0.5, 2),
    "PolynomialLR": lambda L, o: L.PolynomialLR(o, 6, 2.0),
    "MultiplicativeLR": lambda L, o: L.MultiplicativeLR(o, lambda e: 0.9),
}


@pytest.mark.parametrize("name", RECURSIVE)
def test_a_rate_changed_by_hand_is_refused_not_overwritten(name):
    opt = sgd()
    sched = RECURSIVE[name](S, opt)
    sched.step()
    opt.param_groups[0]["lr"] = 0.01
    with pytest.raises(ValueError, match=rf"{name}.step: group 0's learning rate is 0.01, not "):
        sched.step()
    assert opt.param_groups[0]["lr"] == 0.01 and sched.last_epoch == 1


def test_two_schedules_stepped_side_by_side_are_refused_and_chained_scheduler_gives_pytorchs():
    """PyTorch's documented back-to-back pattern (ExponentialLR then MultiStepLR, both stepped
    each epoch) composes the two; here the second overwrote the first (0.1 where PyTorch has
    0.081 at epoch 2: silently wrong before). It raises; ChainedScheduler is the composition."""
    opt = sgd()
    decay, steps = S.ExponentialLR(opt, 0.9), S.MultiStepLR(opt, [2, 4], 0.1)
    decay.step()
    with pytest.raises(ValueError, match=r"MultiStepLR\.step: .* another schedule stepped beside"):
        steps.step()
    opt = sgd()
    chain = S.ChainedScheduler([S.ExponentialLR(opt, 0.9), S.MultiStepLR(opt, [2, 4], 0.1)])
    got = []
    for _ in range(6):
        chain.step()
        got.append(opt.param_groups[0]["lr"])
    want = [0.9 ** e * 0.1 ** ((e >= 2) + (e >= 4)) for e in range(1, 7)]
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_back_to_back_in_pytorch_is_what_chained_scheduler_gives_here():
    torch = pytest.importorskip("torch", reason="PyTorch's back-to-back schedules as reference")
    T = torch.optim.lr_scheduler
    theirs = sgd(torch)
    a, b = T.ExponentialLR(theirs, 0.9), T.MultiStepLR(theirs, [2, 4], 0.1)
    ours = sgd()
    chain = S.ChainedScheduler([S.ExponentialLR(ours, 0.9), S.MultiStepLR(ours, [2, 4], 0.1)])
    for _ in range(8):
        theirs.step()
        a.step()
        b.step()
        chain.step()
        np.testing.assert_allclose(ours.param_groups[0]["lr"], theirs.param_groups[0]["lr"],
                                   rtol=1e-13)


def test_reduce_lr_on_plateau_beside_a_recursive_schedule_is_refused():
    opt = sgd()
    steps, plateau = S.StepLR(opt, 3, 0.5), S.ReduceLROnPlateau(opt, patience=0)
    for loss in [1.0, 2.0]:
        plateau.step(loss)
    assert opt.param_groups[0]["lr"] == 0.1
    with pytest.raises(ValueError, match=r"StepLR\.step: group 0's learning rate is 0\.1, not "):
        steps.step()


@pytest.mark.parametrize("make", [
    lambda o: S.LambdaLR(o, lambda e: 0.5 ** e),
    lambda o: S.CosineAnnealingWarmRestarts(o, 3),
    lambda o: S.OneCycleLR(o, 1.0, total_steps=10),
    lambda o: S.CyclicLR(o, 0.1, 1.0, 2),
], ids=["LambdaLR", "CosineAnnealingWarmRestarts", "OneCycleLR", "CyclicLR"])
def test_schedules_that_overwrite_in_pytorch_too_still_overwrite(make):
    """PyTorch's sets these from its base rates at every step too, so a hand change is dropped
    by both; they keep doing so (no error)."""
    opt = sgd()
    opt.param_groups[0]["momentum"] = 0.9
    sched = make(opt)
    sched.step()
    opt.param_groups[0]["lr"] = 123.0
    sched.step()
    assert opt.param_groups[0]["lr"] != 123.0


@pytest.mark.parametrize("name", ["LambdaLR", "CosineAnnealingWarmRestarts"])
def test_overwriting_schedules_match_pytorch_after_a_hand_change(name):
    torch = pytest.importorskip("torch", reason="PyTorch drops the hand change too")
    make = {"LambdaLR": lambda L, o: L.LambdaLR(o, lambda e: 0.5 ** e),
            "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, 3)}
    ours, theirs = sgd(), sgd(torch)
    a, b = make[name](S, ours), make[name](torch.optim.lr_scheduler, theirs)
    for e in range(7):
        if e == 2:
            ours.param_groups[0]["lr"] = theirs.param_groups[0]["lr"] = 7.0
        theirs.step()
        a.step()
        b.step()
        np.testing.assert_allclose(ours.param_groups[0]["lr"], theirs.param_groups[0]["lr"],
                                   rtol=1e-13)


def test_changing_base_lrs_is_the_way_to_rescale_a_closed_form():
    opt = sgd()
    sched = S.StepLR(opt, 2, 0.5)
    sched.step()
    sched.base_lrs = [0.1]
    opt.param_groups[0]["lr"] = sched.lrs_at(sched.last_epoch, sched.base_lrs)[0]
    sched.step()
    assert opt.param_groups[0]["lr"] == 0.05


def test_a_sequence_refuses_a_hand_change_inside_a_recursive_part_not_at_a_milestone():
    """PyTorch's SequentialLR restarts the next schedule at a milestone from its base rates (a
    hand change is dropped there too) and steps the current one otherwise."""
    opt = sgd()
    seq = S.SequentialLR(opt, [S.ExponentialLR(opt, 0.9), S.StepLR(opt, 2, 0.5)], [3])
    seq.step()
    opt.param_groups[0]["lr"] = 0.3
    with pytest.raises(ValueError, match=r"SequentialLR\.step: group 0's learning rate is 0\.3"):
        seq.step()
    opt.param_groups[0]["lr"] = 0.9 ** 1
    seq.step()
    opt.param_groups[0]["lr"] = 0.3  # the next step is the milestone: restarts from lr0
    seq.step()
    assert opt.param_groups[0]["lr"] == 1.0


@pytest.mark.parametrize("seed", range(4))
def test_a_run_resumed_from_both_state_dicts_steps_on(seed, tmp_path):
    """The check compares the groups' rates with the closed form at the schedule's epoch, so a
    resume (optimizer and schedule loaded, in either order) passes it and continues exactly."""
    r = random.Random(seed)
    make = RECURSIVE[r.choice(sorted(RECURSIVE))]
    whole_opt = sgd(lr=0.7)
    whole = make(S, whole_opt)
    for _ in range(12):
        whole.step()
    opt = sgd(lr=0.7)
    sched = make(S, opt)
    for _ in range(5):
        sched.step()
    path = tmp_path / "ckpt.safetensors"
    nn.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, path)
    ckpt = nn.load(path)
    opt2 = sgd(lr=0.7)
    sched2 = make(S, opt2)
    loads = [lambda: opt2.load_state_dict(ckpt["opt"]),
             lambda: sched2.load_state_dict(ckpt["sched"])]
    for load in loads[::1 if seed % 2 else -1]:
        load()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(7):
            sched2.step()
    assert opt2.param_groups[0]["lr"] == whole_opt.param_groups[0]["lr"]


def test_the_check_adds_nothing_to_a_schedules_state_dict():
    """States saved before the check existed still load (the same keys)."""
    opt = sgd()
    parts = [S.StepLR(opt, 2), S.ExponentialLR(opt, 0.5)]
    for sched in [S.StepLR(sgd(), 2), S.SequentialLR(opt, parts, [3]),
                  S.ChainedScheduler(parts)]:
        state = sched.state_dict()
        assert not [k for k in state if k.startswith("_")]
        for part in state.get("schedulers", []):
            assert not [k for k in part if k.startswith("_")]
