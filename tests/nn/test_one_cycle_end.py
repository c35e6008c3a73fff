"""OneCycleLR at the one step allowed past total_steps: the schedule's final values, not the last
phase extrapolated (a negative learning rate, which then made the optimizer's own state_dict
unloadable)."""

import numpy as np
import pytest

import autodiff as ad
import nn

S = nn.optim.lr_scheduler


def run(strategy, three_phase, steps):
    opt = nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=68, pct_start=0.22,
                         anneal_strategy=strategy, three_phase=three_phase, div_factor=20.0,
                         final_div_factor=3000.0)
    lrs, moms = [opt.param_groups[0]["lr"]], [opt.param_groups[0]["momentum"]]
    for _ in range(steps):
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
    return opt, lrs, moms


@pytest.mark.parametrize("strategy", ["linear", "cos"])
@pytest.mark.parametrize("three_phase", [True, False])
def test_the_step_past_the_end_holds_the_final_values(strategy, three_phase):
    opt, lrs, moms = run(strategy, three_phase, 68)
    min_lr = 1.0 / 20.0 / 3000.0
    assert lrs[67] == pytest.approx(min_lr, rel=1e-12)  # the schedule's last step
    assert lrs[68] == lrs[67] and moms[68] == moms[67] == pytest.approx(0.95)
    assert min(lrs) > 0
    fresh = nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
    fresh.load_state_dict(opt.state_dict())  # refused a negative lr before
    assert fresh.param_groups[0]["lr"] == lrs[68]


@pytest.mark.parametrize("strategy", ["linear", "cos"])
@pytest.mark.parametrize("three_phase", [True, False])
def test_every_step_of_the_schedule_is_pytorchs(strategy, three_phase):
    torch = pytest.importorskip("torch", reason="PyTorch is the reference for OneCycleLR")
    _, lrs, moms = run(strategy, three_phase, 68)
    opt = torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=1.0, total_steps=68, pct_start=0.22, anneal_strategy=strategy,
        three_phase=three_phase, div_factor=20.0, final_div_factor=3000.0)
    theirs, their_moms = [opt.param_groups[0]["lr"]], [opt.param_groups[0]["momentum"]]
    for _ in range(68):
        opt.step()
        sched.step()
        theirs.append(opt.param_groups[0]["lr"])
        their_moms.append(opt.param_groups[0]["momentum"])
    np.testing.assert_allclose(lrs[:68], theirs[:68], rtol=1e-13)
    np.testing.assert_allclose(moms[:68], their_moms[:68], rtol=1e-13)
    if strategy == "linear":
        assert theirs[68] < 0  # PyTorch's extrapolation past the end: a negative rate
