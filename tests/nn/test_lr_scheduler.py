"""Schedules against their closed forms."""

import math

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
        [0.1 + 0.9 * (1 + math.cos(math.pi * min(e, 10) / 10)) / 2 for e in range(12)])
    assert lrs(lambda o: S.InverseTimeDecay(o, 0.5, 2)) == pytest.approx(
        [1 / (1 + 0.5 * (e // 2)) for e in range(12)])
    warm = lrs(lambda o: S.LinearWarmup(o, 4, 0.2))
    assert warm[:5] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0]) and warm[-1] == 1.0


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
