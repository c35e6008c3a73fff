"""Schedules refuse the arguments that make a negative, infinite or NaN learning rate (PyTorch
sets it and the optimizer ascends or goes NaN), and any rate a schedule computes is checked
before it is written."""

import math

import pytest

import autodiff as ad
import nn

S = nn.optim.lr_scheduler


def sgd():
    return nn.optim.SGD([{"params": [ad.zeros(1, requires_grad=True)]},
                         {"params": [ad.zeros(1, requires_grad=True)], "lr": 0.5}], lr=1.0)


@pytest.mark.parametrize("make, match", [
    (lambda o: S.StepLR(o, 2, gamma=-0.5), r"StepLR: gamma must be a number >= 0, got -0.5"),
    (lambda o: S.StepLR(o, 2.5), r"StepLR: step_size must be an integer >= 1, got 2.5"),
    (lambda o: S.ExponentialLR(o, math.nan), r"ExponentialLR: gamma must be a number >= 0"),
    (lambda o: S.MultiStepLR(o, [1, 2], gamma=math.inf), r"MultiStepLR: gamma must be a"),
    (lambda o: S.MultiStepLR(o, [2, "a"]), r"each of milestones must be an integer >= 0, got 'a'"),
    (lambda o: S.MultiStepLR(o, [2, -1]), r"each of milestones must be an integer >= 0, got -1"),
    (lambda o: S.CosineAnnealingLR(o, 4, eta_min=-1.0), r"eta_min must be a number >= 0"),
    (lambda o: S.CosineAnnealingLR(o, math.nan), r"T_max must be a number > 0, got nan"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 3, eta_min=-0.1), r"eta_min must be a number"),
    (lambda o: S.StepLR(o, 2, last_epoch=-5), r"StepLR: last_epoch must be an integer >= -1, "
                                              r"got -5"),
    (lambda o: S.ExponentialLR(o, 0.9, last_epoch=3.5), r"last_epoch must be an integer"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_arguments_that_make_a_bad_rate_are_refused(make, match):
    """Each was accepted: StepLR(gamma=-0.5) set lr -0.5 after two epochs, last_epoch=-5 lr
    10 (gamma ** -2), CosineAnnealingLR(eta_min=-1) a negative rate past T_max / 2."""
    opt = sgd()
    with pytest.raises(ValueError, match=match):
        make(opt)
    assert [g["lr"] for g in opt.param_groups] == [1.0, 0.5]


@pytest.mark.parametrize("make", [
    lambda o: S.LambdaLR(o, lambda e: 1 - e / 2),
    lambda o: S.LambdaLR(o, [lambda e: 1.0, lambda e: math.nan if e == 2 else 1.0]),
    lambda o: S.SequentialLR(o, [S.ExponentialLR(o, 0.5), S.LambdaLR(o, lambda e: -e)], [1]),
    lambda o: S.ChainedScheduler([S.ExponentialLR(o, 0.9), S.LambdaLR(o, lambda e: 1 - e)]),
], ids=["lambda", "lambda-per-group", "sequential", "chained"])
def test_a_computed_rate_that_is_negative_or_nan_is_refused_unwritten(make):
    opt = sgd()
    sched = make(opt)
    with pytest.raises(ValueError, match=r"the learning rate of group [01] at epoch [123] would "
                                         r"be (-|nan)"):
        for _ in range(3):
            before = [g["lr"] for g in opt.param_groups]
            sched.step()
    assert [g["lr"] for g in opt.param_groups] == before  # neither group written
    assert all(lr >= 0 for lr in before)


def test_legal_edges_still_work():
    opt = sgd()
    S.StepLR(opt, 1, gamma=0.0).step()  # gamma 0: lr 0 after a step, as PyTorch
    assert [g["lr"] for g in opt.param_groups] == [0.0, 0.0]
    opt = sgd()
    S.ExponentialLR(opt, 1.5).step()  # growth is allowed
    assert [g["lr"] for g in opt.param_groups] == [1.5, 0.75]
    opt = sgd()
    sched = S.CosineAnnealingLR(opt, 2, eta_min=2.0)  # eta_min above lr0: it rises
    sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(1.5)
