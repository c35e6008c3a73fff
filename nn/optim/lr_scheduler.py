"""Learning-rate schedules: each sets every group's lr from a closed form of the epoch.

    StepLR            lr0 * gamma ** (epoch // step_size)
    MultiStepLR       lr0 * gamma ** (number of milestones <= epoch)
    ExponentialLR     lr0 * gamma ** epoch
    CosineAnnealingLR eta_min + (lr0 - eta_min) (1 + cos(pi epoch / T_max)) / 2   (past T_max
                      it rises again, period 2 T_max, as PyTorch's)
    LinearWarmup      lr0 * (start + (1 - start) min(epoch, warmup) / warmup), then `after`
    InverseTimeDecay  lr0 / (1 + decay_rate * floor(epoch / time_interval))   (the course's)

>>> import autodiff as ad, nn
>>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
>>> sched = nn.optim.lr_scheduler.InverseTimeDecay(opt, decay_rate=1.0)
>>> sched.step(); sched.get_last_lr()
[0.5]
"""

from __future__ import annotations

import bisect
import math
from typing import Any

from nn.optim.optimizer import Optimizer


class LRScheduler:
    """Call `step()` once per epoch, after the optimizer's steps."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        for g in optimizer.param_groups:
            g.setdefault("initial_lr", g["lr"])
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, base_lr: float, epoch: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def step(self) -> None:
        self.last_epoch += 1
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = self.lr_at(base, self.last_epoch)

    def get_last_lr(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """The schedule's position and settings (`last_epoch`, `base_lrs`, ...) in plain types
        `nn.save` writes; not the optimizer (its `state_dict` holds the lr), nor the `after`
        schedule of a warmup (a closed form of its settings, rebuilt with it).

        >>> import autodiff as ad, nn
        >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
        >>> sched = nn.optim.lr_scheduler.StepLR(opt, step_size=2)
        >>> sched.step(); sched.state_dict()["last_epoch"]
        1
        """
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"
                and not isinstance(v, LRScheduler)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict()` of the same kind of schedule; the next `step()` continues
        from it. A state with other entries (another schedule's) is refused with ValueError.

        >>> import autodiff as ad, nn
        >>> S = nn.optim.lr_scheduler
        >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
        >>> saved = S.StepLR(opt, step_size=2).state_dict()
        >>> S.CosineAnnealingLR(opt, T_max=4).load_state_dict(saved)
        Traceback (most recent call last):
        ...
        ValueError: CosineAnnealingLR.load_state_dict: the state has ['gamma', 'step_size'] ...
        """
        own = set(self.state_dict())
        extra, missing = sorted(set(state) - own), sorted(own - set(state))
        if extra or missing:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state has {extra} "
                             f"this schedule lacks, and lacks {missing} (another schedule's?)")
        self.__dict__.update(state)


class StepLR(LRScheduler):
    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        if step_size <= 0:
            raise ValueError(f"StepLR: step_size must be positive, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    def __init__(self, optimizer: Optimizer, milestones: list[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** epoch


class CosineAnnealingLR(LRScheduler):
    """eta_min + (lr0 - eta_min) (1 + cos(pi epoch / T_max)) / 2 at every epoch, past T_max too:
    it reaches eta_min at T_max and climbs back to lr0 at 2 T_max, as PyTorch's schedule (whose
    recursive update equals this closed form up to rounding). It does not hold at eta_min.

    >>> import autodiff as ad, nn
    >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(round(sched.get_last_lr()[0], 6)); sched.step()
    >>> lrs
    [1.0, 0.5, 0.0, 0.5, 1.0]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return self.eta_min + (base_lr - self.eta_min) * (
            1 + math.cos(math.pi * epoch / self.T_max)) / 2


class InverseTimeDecay(LRScheduler):
    """The course's learning-rate decay: lr0 / (1 + decay_rate * floor(epoch / interval))."""

    def __init__(self, optimizer: Optimizer, decay_rate: float, time_interval: int = 1,
                 last_epoch: int = -1) -> None:
        if decay_rate < 0 or time_interval <= 0:
            raise ValueError("InverseTimeDecay: decay_rate must be >= 0 and time_interval > 0")
        self.decay_rate, self.time_interval = decay_rate, time_interval
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr / (1 + self.decay_rate * (epoch // self.time_interval))


class LinearWarmup(LRScheduler):
    """Ramp from start_factor * lr0 to lr0 over `warmup_epochs`, then follow `after`'s closed
    form (shifted by the warmup), if given."""

    def __init__(self, optimizer: Optimizer, warmup_epochs: int, start_factor: float = 0.1,
                 after: LRScheduler | None = None, last_epoch: int = -1) -> None:
        if warmup_epochs <= 0 or not 0 < start_factor <= 1:
            raise ValueError("LinearWarmup: warmup_epochs > 0 and 0 < start_factor <= 1")
        self.warmup_epochs, self.start_factor, self.after = warmup_epochs, start_factor, after
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        if epoch < self.warmup_epochs:
            return base_lr * (self.start_factor + (1 - self.start_factor) * epoch
                              / self.warmup_epochs)
        if self.after is not None:
            return self.after.lr_at(base_lr, epoch - self.warmup_epochs)
        return base_lr
