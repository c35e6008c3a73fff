"""Learning-rate schedules: each sets every group's lr from a closed form of the epoch.

    StepLR            lr0 * gamma ** (epoch // step_size)
    MultiStepLR       lr0 * gamma ** (number of milestones <= epoch)
    ExponentialLR     lr0 * gamma ** epoch
    CosineAnnealingLR eta_min + (lr0 - eta_min) (1 + cos(pi epoch / T_max)) / 2   (past T_max
                      it rises again, period 2 T_max, as PyTorch's)
    LinearWarmup      lr0 * (start + (1 - start) min(epoch, warmup) / warmup), then `after`
    InverseTimeDecay  lr0 / (1 + decay_rate * floor(epoch / time_interval))   (the course's)
    LambdaLR          lr0 * lr_lambda(epoch)
    CosineAnnealingWarmRestarts   the cosine over T_cur / T_i, restarted after T_i epochs
                      (T_i = T_0, then times T_mult after each restart); fractional epochs too
    OneCycleLR        warm up from max_lr / div_factor to max_lr, anneal to that over
                      final_div_factor; momentum the other way round
    SequentialLR      one schedule after another, each from its own epoch 0 at its milestone
    ChainedScheduler  the schedules composed: each applied to the rates the previous gave
    ReduceLROnPlateau not a closed form: lr * factor once a metric stops improving
    LinearLR          lr0 * (start + (end - start) min(epoch, total_iters) / total_iters)
    ConstantLR        lr0 * factor before total_iters, then lr0
    PolynomialLR      lr0 * (1 - min(epoch, total_iters) / total_iters) ** power
    MultiplicativeLR  lr0 * lr_lambda(1) * ... * lr_lambda(epoch)
    CyclicLR          up and down between base_lr and max_lr, the height scaled by the mode

>>> import autodiff as ad, nn
>>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
>>> sched = nn.optim.lr_scheduler.InverseTimeDecay(opt, decay_rate=1.0)
>>> sched.step(); sched.get_last_lr()
[0.5]
"""

from __future__ import annotations

import bisect
import math
import numbers
import types
from collections.abc import Callable
from typing import Any, ClassVar

from nn._state import real_number
from nn.optim.optimizer import Optimizer


class LRScheduler:
    """Call `step()` once per epoch, after the optimizer's steps."""

    # True where PyTorch's schedule of this name updates the rate it finds in the groups
    # (recursively), so that a rate changed by hand or by another schedule stepped beside it
    # carries on there: the closed form here would overwrite it, so `step()` refuses a rate it
    # did not set (see `_unchanged`).
    recursive_in_pytorch: ClassVar[bool] = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        _at_least(self, "last_epoch", last_epoch, -1, integer=True)
        self.optimizer = optimizer
        for g in optimizer.param_groups:
            g.setdefault("initial_lr", g["lr"])
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._started = False  # the first step (made here) sets the rate whatever it was
        self.step()
        self._started = True

    def lr_at(self, base_lr: float, epoch: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def lrs_at(self, epoch: float, lrs: list[float]) -> list[float]:
        """Each group's rate at `epoch`, the schedule started from `lrs` (its base rates when
        it steps alone; the previous schedule's rates in a ChainedScheduler)."""
        return [self.lr_at(lr, epoch) for lr in lrs]

    def step(self) -> None:
        _unchanged(self)
        self._apply(self.last_epoch + 1)  # a refused rate leaves the schedule where it was
        self.last_epoch += 1

    def _recursive_in_pytorch(self) -> bool:
        return self.recursive_in_pytorch

    def _rates_now(self) -> list[float]:
        """The rates this schedule set at its current epoch (what the groups hold unless
        something else changed them)."""
        return self.lrs_at(self.last_epoch, self.base_lrs)

    def _apply(self, epoch: float) -> None:
        """Write the rates (and any other hyperparameter the schedule sets) for `epoch`."""
        _write_lrs(self, epoch, self.lrs_at(epoch, self.base_lrs))
        self._apply_extras(epoch)

    def _apply_extras(self, epoch: float) -> None:
        """Write the hyperparameters other than the rate the schedule sets at `epoch` (none;
        OneCycleLR's momentum)."""

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
                and not k.startswith("_") and not isinstance(v, LRScheduler)}

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
        mine = self.state_dict()
        extra, missing = sorted(set(state) - set(mine)), sorted(set(mine) - set(state))
        if extra or missing:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state has {extra} "
                             f"this schedule lacks, and lacks {missing} (another schedule's?)")
        for key, value in state.items():
            problem = _unlike(value, mine[key])
            if problem:
                raise ValueError(f"{type(self).__name__}.load_state_dict: '{key}' is "
                                 f"{value!r}, {problem} (here: {mine[key]!r})")
        self.__dict__.update(state)


def _write_lrs(owner: LRScheduler, epoch: float, lrs: list[float]) -> None:
    """Set each group's lr, all of them finite numbers >= 0 or none: a schedule that gives a
    negative or NaN rate (a LambdaLR's function, say) raises naming it and the epoch instead of
    letting the optimizer ascend or go NaN (PyTorch sets whatever comes out).

    >>> import autodiff as ad, nn
    >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = nn.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 - epoch)
    >>> sched.step(); opt.param_groups[0]['lr']
    0.0
    >>> sched.step()
    Traceback (most recent call last):
    ...
    ValueError: LambdaLR: the learning rate of group 0 at epoch 2 would be -1.0; a learning ...
    """
    for i, lr in enumerate(lrs):
        if not (real_number(lr) and lr >= 0):
            raise ValueError(f"{type(owner).__name__}: the learning rate of group {i} at epoch "
                             f"{epoch} would be {lr!r}; a learning rate must be a finite number "
                             ">= 0")
    for g, lr in zip(owner.optimizer.param_groups, lrs):
        g["lr"] = lr


def _unchanged(owner: LRScheduler) -> None:
    """Before a step: refuse rates this schedule did not set, where PyTorch's schedule of the
    same name would carry them on and this closed form would silently drop them: a rate set by
    hand, by ReduceLROnPlateau, or by a second schedule stepped beside this one (PyTorch's
    "chaining" of schedules called one after the other on one optimizer).

    >>> import autodiff as ad, nn
    >>> S = nn.optim.lr_scheduler
    >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
    >>> decay, steps = S.ExponentialLR(opt, 0.9), S.MultiStepLR(opt, [2, 4])
    >>> decay.step(); steps.step()
    Traceback (most recent call last):
    ...
    ValueError: MultiStepLR.step: group 0's learning rate is 0.9, not the 1.0 this schedule set ...
    """
    if not owner._recursive_in_pytorch() or not getattr(owner, "_started", True):
        return
    for i, (g, mine) in enumerate(zip(owner.optimizer.param_groups, owner._rates_now())):
        if g["lr"] != mine:
            raise ValueError(
                f"{type(owner).__name__}.step: group {i}'s learning rate is {g['lr']!r}, not the "
                f"{mine!r} this schedule set at epoch {owner.last_epoch}: it was changed by hand,"
                " by ReduceLROnPlateau or by another schedule stepped beside this one. PyTorch's "
                f"{type(owner).__name__} would continue from the changed rate; this one sets a "
                "closed form of the epoch and would drop it. Compose schedules with "
                "ChainedScheduler or SequentialLR, or change the schedule's base_lrs")


def _at_least(owner: Any, arg: str, value: Any, low: float, *, integer: bool = False,
              above: bool = False) -> None:
    """A schedule's argument: a finite number (an integer where `integer`) >= low (> low where
    `above`), or ValueError naming the schedule, the argument and the value."""
    kind = _integer(value) if integer else real_number(value)
    if not kind or value < low or (above and value == low):
        what = "an integer" if integer else "a number"
        raise ValueError(f"{type(owner).__name__}: {arg} must be {what} {'>' if above else '>='}"
                         f" {low:g}, got {value!r}")


def _unlike(saved: Any, own: Any) -> str:
    """Why a saved entry cannot replace `own` ('' if it can): another kind of value (a number
    for a number, NaN refused; a string for a string; lists of the same length), None aside."""
    if saved is None or own is None:
        return ""
    if isinstance(own, bool) or isinstance(saved, bool):
        return "" if isinstance(saved, bool) and isinstance(own, bool) else "not True or False"
    if isinstance(own, numbers.Real):
        ok = isinstance(saved, numbers.Real) and not math.isnan(saved)
        return "" if ok else "not a number"
    if isinstance(own, str):
        return "" if isinstance(saved, str) else "not a string"
    if isinstance(own, list | tuple):
        if not isinstance(saved, list | tuple) or len(saved) != len(own):
            return f"not a list of {len(own)}"
        return next((p for p in map(_unlike, saved, own) if p), "")
    if isinstance(own, dict):
        if not isinstance(saved, dict) or set(saved) != set(own):
            return f"not a dict with the keys {sorted(own)}"
        return next((p for k in own if (p := _unlike(saved[k], own[k]))), "")
    return ""


class StepLR(LRScheduler):
    recursive_in_pytorch = True

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        _at_least(self, "step_size", step_size, 1, integer=True)
        _at_least(self, "gamma", gamma, 0)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    recursive_in_pytorch = True

    def __init__(self, optimizer: Optimizer, milestones: list[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        for m in milestones:
            _at_least(self, "each of milestones", m, 0, integer=True)
        _at_least(self, "gamma", gamma, 0)
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    recursive_in_pytorch = True

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        _at_least(self, "gamma", gamma, 0)
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

    recursive_in_pytorch = True

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        _at_least(self, "T_max", T_max, 0, above=True)
        _at_least(self, "eta_min", eta_min, 0)
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


# -- schedules PyTorch users reach for: a function, restarts, one cycle, compositions, plateaus


class LambdaLR(LRScheduler):
    """lr0 * lr_lambda(epoch): one function for every group, or a list with one per group.

    `state_dict()` holds, as PyTorch's, the attributes (`__dict__`) of a lambda that is a
    callable object, and None for a plain function or lambda (rebuilt by the code that makes
    the schedule); `load_state_dict` puts such attributes back on this schedule's objects.

    >>> import autodiff as ad, nn
    >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = nn.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 0.5 ** epoch)
    >>> sched.step(); sched.step(); sched.get_last_lr()
    [0.25]
    """

    def __init__(self, optimizer: Optimizer,
                 lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        n = len(optimizer.param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, list | tuple) else [lr_lambda] * n
        if len(lambdas) != n:
            raise ValueError(f"LambdaLR: expected {n} lr_lambdas (one per parameter group), got "
                             f"{len(lambdas)}")
        for f in lambdas:
            if not callable(f):
                raise TypeError(f"LambdaLR: lr_lambda must be callable, got {type(f).__name__}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def lrs_at(self, epoch: float, lrs: list[float]) -> list[float]:
        return [lr * f(epoch) for lr, f in zip(lrs, self.lr_lambdas)]

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in super().state_dict().items() if k != "lr_lambdas"}
        state["lr_lambdas"] = [None if isinstance(f, types.FunctionType) else dict(vars(f))
                               for f in self.lr_lambdas]
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = state.get("lr_lambdas")
        objects = [not isinstance(f, types.FunctionType) for f in self.lr_lambdas]
        if not (isinstance(saved, list | tuple) and len(saved) == len(objects)
                and all((s is None) or (isinstance(s, dict) and obj)
                        for s, obj in zip(saved, objects))):
            raise ValueError(f"LambdaLR.load_state_dict: 'lr_lambdas' should hold, for each of "
                             f"the {len(objects)} groups, None or (for a callable object) its "
                             f"attributes, got {saved!r}")
        lambdas = self.lr_lambdas
        super().load_state_dict(state)
        self.lr_lambdas = lambdas
        for f, attributes in zip(lambdas, saved):
            if attributes is not None:
                vars(f).update(attributes)


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR: eta_min + (lr0 - eta_min) (1 + cos(pi T_cur / T_i)) / 2, T_cur the epochs since
    the last restart, T_i the length of the current cycle (T_0, then times T_mult after each
    restart).

    `step()` advances one epoch; `step(epoch)` jumps to `epoch`, fractional epochs included
    (`step(epoch + i / iters)` inside an epoch's batches, as in PyTorch's docs).

    >>> import autodiff as ad, nn
    >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = nn.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    >>> lrs = []
    >>> for _ in range(7):
    ...     lrs.append(round(sched.get_last_lr()[0], 3)); sched.step()
    >>> lrs  # cycles of 2, then 4 epochs
    [1.0, 0.5, 1.0, 0.854, 0.5, 0.146, 1.0]
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if not _integer(T_0) or T_0 < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_0 must be an integer >= 1, got "
                             f"{T_0!r}")
        if not _integer(T_mult) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_mult must be an integer >= 1, got "
                             f"{T_mult!r}")
        _at_least(self, "eta_min", eta_min, 0)
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur: float = last_epoch
        super().__init__(optimizer, last_epoch)

    def cycle(self, epoch: float) -> tuple[float, int]:
        """(T_cur, T_i) at `epoch`, counting whole cycles (PyTorch takes a logarithm, which
        can land one cycle short at an exact restart, e.g. T_0=10, T_mult=10, epoch 1110)."""
        start, length = 0, self.T_0
        if self.T_mult == 1:
            return epoch % self.T_0 if epoch >= self.T_0 else epoch, self.T_0
        while epoch >= start + length:
            start, length = start + length, length * self.T_mult
        return epoch - start, length

    def lrs_at(self, epoch: float, lrs: list[float]) -> list[float]:
        t_cur, t_i = self.cycle(epoch)
        return [self._cosine(lr, t_cur, t_i) for lr in lrs]

    def _cosine(self, base_lr: float, t_cur: float, t_i: float) -> float:
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2

    def step(self, epoch: float | None = None) -> None:  # type: ignore[override]
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:  # one more epoch: PyTorch's running count, fractions carried on
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur, self.T_i = self.T_cur % self.T_i, self.T_i * self.T_mult
        else:
            if not real_number(epoch) or epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts.step: epoch must be a number >= "
                                 f"0, got {epoch!r}")
            self.T_cur, self.T_i = self.cycle(epoch)
        self.last_epoch = math.floor(epoch)
        _write_lrs(self, epoch, [self._cosine(base, self.T_cur, self.T_i)
                                 for base in self.base_lrs])


def _integer(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


class OneCycleLR(LRScheduler):
    """The 1cycle policy, stepped once per batch: from max_lr / div_factor up to max_lr over
    the first pct_start of total_steps, then down to that over final_div_factor (three_phase:
    back down to the start, then down to the minimum), annealing by cosine or linearly.
    With cycle_momentum, the momentum (or Adam's beta1) moves the other way, between
    max_momentum and base_momentum. `max_lr`, `base_momentum`, `max_momentum` take one value
    or one per group.

    >>> import autodiff as ad, nn
    >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    >>> sched = nn.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    >>> lrs = [sched.get_last_lr()[0]]
    >>> for _ in range(4):
    ...     sched.step(); lrs.append(sched.get_last_lr()[0])
    >>> [round(lr, 2) for lr in lrs]
    [0.04, 0.52, 1.0, 0.95, 0.81]
    >>> round(opt.param_groups[0]["momentum"], 3)  # 0.85 at max_lr, back up towards 0.95
    0.9
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float],
                 total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85,
                 max_momentum: float | list[float] = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        self.total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
        if not (real_number(pct_start) and 0 <= pct_start <= 1):
            raise ValueError(f"OneCycleLR: pct_start must be a number in [0, 1], got "
                             f"{pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        for name, v in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            if not (real_number(v) and v > 0):
                raise ValueError(f"OneCycleLR: {name} must be a number > 0, got {v!r}")
        self.anneal_strategy, self.cycle_momentum = anneal_strategy, bool(cycle_momentum)
        self.phases = _one_cycle_phases(self.total_steps, pct_start, three_phase)
        groups = optimizer.param_groups
        self.values = [{"max_lr": m, "initial_lr": m / div_factor,
                        "min_lr": m / div_factor / final_div_factor}
                       for m in _per_group("max_lr", max_lr, len(groups))]
        if last_epoch == -1:
            for g, v in zip(groups, self.values):
                g["initial_lr"] = v["initial_lr"]
        self.use_beta1 = "betas" in optimizer.defaults
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and not self.use_beta1:
                raise ValueError(f"OneCycleLR: cycle_momentum needs an optimizer with momentum "
                                 f"or betas, {type(optimizer).__name__} has neither (pass "
                                 f"cycle_momentum=False)")
            for v, top, base in zip(self.values,
                                    _per_group("max_momentum", max_momentum, len(groups)),
                                    _per_group("base_momentum", base_momentum, len(groups))):
                v.update(max_momentum=top, base_momentum=base)
            if last_epoch == -1:
                self._set_momenta([v["max_momentum"] for v in self.values])
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _at(self, step: float, v: dict[str, float], what: str) -> float:
        """`what` ("lr" or "momentum") at `step` for one group's values `v`; at the one step
        allowed past the end (total_steps), the final values (PyTorch extrapolates the last
        phase there: linearly, a rate below min_lr, negative when min_lr is small)."""
        start_step = 0.0
        for i, phase in enumerate(self.phases):
            if step <= phase["end_step"] or i == len(self.phases) - 1:
                pct = min((step - start_step) / (phase["end_step"] - start_step), 1.0)
                return self._anneal(v[phase[f"start_{what}"]], v[phase[f"end_{what}"]], pct)
            start_step = phase["end_step"]
        raise AssertionError("unreachable")  # pragma: no cover

    def lrs_at(self, epoch: float, lrs: list[float]) -> list[float]:
        return [self._at(epoch, v, "lr") for v in self.values]

    def step(self) -> None:
        if self.last_epoch + 1 > self.total_steps:
            raise ValueError(f"OneCycleLR.step: stepped {self.last_epoch + 1} times, but "
                             f"total_steps is {self.total_steps}")
        super().step()

    def _apply_extras(self, epoch: float) -> None:
        if self.cycle_momentum:
            self._set_momenta([self._at(epoch, v, "momentum") for v in self.values])

    def _set_momenta(self, momenta: list[float]) -> None:
        for g, m in zip(self.optimizer.param_groups, momenta):
            if self.use_beta1:
                g["betas"] = (m, *g["betas"][1:])
            else:
                g["momentum"] = m


def _total_steps(total_steps: int | None, epochs: int | None,
                 steps_per_epoch: int | None) -> int:
    if total_steps is not None:
        if not _integer(total_steps) or total_steps < 1:
            raise ValueError(f"OneCycleLR: total_steps must be an integer >= 1, got "
                             f"{total_steps!r}")
        return int(total_steps)
    if epochs is None or steps_per_epoch is None:
        raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
    for name, v in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
        if not _integer(v) or v < 1:
            raise ValueError(f"OneCycleLR: {name} must be an integer >= 1, got {v!r}")
    return int(epochs) * int(steps_per_epoch)


def _one_cycle_phases(total: int, pct_start: float, three_phase: bool
                      ) -> list[dict[str, Any]]:
    """PyTorch's phases: where each ends (in steps) and the values it goes between."""
    up = {"end_step": float(pct_start * total) - 1, "start_lr": "initial_lr",
          "end_lr": "max_lr", "start_momentum": "max_momentum", "end_momentum": "base_momentum"}
    if three_phase:
        phases = [up, {"end_step": float(2 * pct_start * total) - 2, "start_lr": "max_lr",
                       "end_lr": "initial_lr", "start_momentum": "base_momentum",
                       "end_momentum": "max_momentum"},
                  {"end_step": total - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                   "start_momentum": "max_momentum", "end_momentum": "max_momentum"}]
    else:
        phases = [up, {"end_step": total - 1, "start_lr": "max_lr", "end_lr": "min_lr",
                       "start_momentum": "base_momentum", "end_momentum": "max_momentum"}]
    ends = [0.0] + [p["end_step"] for p in phases]
    if any(a == b for a, b in zip(ends, ends[1:])):
        raise ValueError(f"OneCycleLR: pct_start={pct_start} of total_steps={total} makes a "
                         f"phase of no steps (phases end at {ends[1:]}); PyTorch divides by "
                         "zero there")
    return phases


def _per_group(name: str, value: Any, n: int) -> list[float]:
    values = list(value) if isinstance(value, list | tuple) else [value] * n
    if len(values) != n:
        raise ValueError(f"OneCycleLR: {name} has {len(values)} values, the optimizer {n} "
                         "parameter groups")
    for v in values:
        if not real_number(v) or v < 0:
            raise ValueError(f"OneCycleLR: {name} must be a number >= 0, got {v!r}")
    return values


class SequentialLR(LRScheduler):
    """schedulers[0] until milestones[0], then schedulers[1] from its own epoch 0, and so on.

    >>> import autodiff as ad, nn
    >>> S = nn.optim.lr_scheduler
    >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
    >>> warm = S.LambdaLR(opt, lambda e: (e + 1) / 3)
    >>> sched = S.SequentialLR(opt, [warm, S.ExponentialLR(opt, 0.5)], milestones=[2])
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(round(sched.get_last_lr()[0], 3)); sched.step()
    >>> lrs
    [0.333, 0.667, 1.0, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler],
                 milestones: list[int], last_epoch: int = -1) -> None:
        _check_parts("SequentialLR", optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: expected {len(schedulers) - 1} milestones (one "
                             f"fewer than the schedulers), got {len(milestones)}")
        if not all(_integer(m) for m in milestones) or list(milestones) != sorted(milestones):
            raise ValueError(f"SequentialLR: milestones must be increasing integers, got "
                             f"{list(milestones)}")
        self.schedulers, self.milestones = list(schedulers), list(milestones)
        super().__init__(optimizer, last_epoch)

    def _part(self, epoch: float) -> tuple[LRScheduler, float]:
        i = bisect.bisect_right(self.milestones, epoch)
        return self.schedulers[i], epoch - (self.milestones[i - 1] if i else 0)

    def _recursive_in_pytorch(self) -> bool:
        """PyTorch's restarts the next schedule at a milestone (from its base rates) and steps
        the current one otherwise."""
        part, local = self._part(self.last_epoch + 1)
        return local != 0 and part._recursive_in_pytorch()

    def lrs_at(self, epoch: float, lrs: list[float]) -> list[float]:
        part, local = self._part(epoch)
        return part.lrs_at(local, lrs)

    def _apply(self, epoch: float) -> None:
        part, local = self._part(epoch)
        part._apply(local)

    def _apply_extras(self, epoch: float) -> None:
        part, local = self._part(epoch)
        part._apply_extras(local)

    def state_dict(self) -> dict[str, Any]:
        """Its own position and each schedule's state (`schedulers`).

        >>> import autodiff as ad, nn
        >>> S = nn.optim.lr_scheduler
        >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
        >>> seq = S.SequentialLR(opt, [S.StepLR(opt, 2), S.ExponentialLR(opt, 0.5)], [3])
        >>> sorted(seq.state_dict()), len(seq.state_dict()["schedulers"])
        (['base_lrs', 'last_epoch', 'milestones', 'schedulers'], 2)
        """
        return _with_parts(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        _load_with_parts(self, state)


class ChainedScheduler(LRScheduler):
    """The schedules composed, stepped together: each one's closed form applied to the rates
    the previous one gives (ExponentialLR then StepLR: lr0 gamma1^e gamma2^(e // step)).

    >>> import autodiff as ad, nn
    >>> S = nn.optim.lr_scheduler
    >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
    >>> chain = S.ChainedScheduler([S.ExponentialLR(opt, 0.9), S.StepLR(opt, 2, 0.5)])
    >>> for _ in range(3):
    ...     chain.step()
    >>> round(chain.get_last_lr()[0], 6)  # 0.9^3 * 0.5^1
    0.3645
    """

    def __init__(self, schedulers: list[LRScheduler],
                 optimizer: Optimizer | None = None) -> None:
        if not schedulers:
            raise ValueError("ChainedScheduler: expected at least one scheduler, got none")
        optimizer = optimizer or schedulers[0].optimizer
        _check_parts("ChainedScheduler", optimizer, schedulers)
        self.optimizer, self.schedulers = optimizer, list(schedulers)
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self._write()
        self._started = True

    def lrs_at(self, epoch: float, lrs: list[float]) -> list[float]:
        for s in self.schedulers:
            lrs = s.lrs_at(epoch, lrs)
        return lrs

    def _recursive_in_pytorch(self) -> bool:
        return any(s._recursive_in_pytorch() for s in self.schedulers)

    def _rates_now(self) -> list[float]:
        lrs = self.base_lrs
        for s in self.schedulers:
            lrs = s.lrs_at(s.last_epoch, lrs)
        return lrs

    def step(self) -> None:
        _unchanged(self)
        self._write([s.last_epoch + 1 for s in self.schedulers])
        for s in self.schedulers:
            s.last_epoch += 1

    def _write(self, epochs: list[float] | None = None) -> None:
        """The composed rates at each schedule's epoch (`epochs`, else where each is), then
        each schedule's other hyperparameters (OneCycleLR's momentum)."""
        epochs = [s.last_epoch for s in self.schedulers] if epochs is None else epochs
        lrs = self.base_lrs
        for s, epoch in zip(self.schedulers, epochs):
            lrs = s.lrs_at(epoch, lrs)
        _write_lrs(self, epochs[0], lrs)
        for s, epoch in zip(self.schedulers, epochs):
            s._apply_extras(epoch)

    def state_dict(self) -> dict[str, Any]:
        return _with_parts(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        _load_with_parts(self, state)


def _check_parts(name: str, optimizer: Optimizer, schedulers: list[LRScheduler]) -> None:
    if not schedulers:
        raise ValueError(f"{name}: expected at least one scheduler, got none")
    for i, s in enumerate(schedulers):
        if isinstance(s, ReduceLROnPlateau) or not isinstance(s, LRScheduler):
            raise TypeError(f"{name}: scheduler {i} is {type(s).__name__}, not a schedule of "
                            "the epoch (ReduceLROnPlateau needs a metric at each step)")
        if s.optimizer is not optimizer:
            raise ValueError(f"{name}: scheduler {i} ({type(s).__name__}) belongs to another "
                             "optimizer")


def _with_parts(owner: LRScheduler) -> dict[str, Any]:
    state = {k: v for k, v in vars(owner).items()
             if k not in ("optimizer", "schedulers") and not k.startswith("_")}
    state["schedulers"] = [s.state_dict() for s in owner.schedulers]  # type: ignore[attr-defined]
    return state


def _load_with_parts(owner: LRScheduler, state: dict[str, Any]) -> None:
    parts = owner.schedulers  # type: ignore[attr-defined]
    saved = state.get("schedulers")
    if not (isinstance(saved, list | tuple) and len(saved) == len(parts)):
        raise ValueError(f"{type(owner).__name__}.load_state_dict: 'schedulers' should hold "
                         f"the states of {len(parts)} schedules, got {saved!r}")
    LRScheduler.load_state_dict(owner, state)
    owner.schedulers = parts  # type: ignore[attr-defined]
    for part, s in zip(parts, saved):
        part.load_state_dict(s)


class ReduceLROnPlateau(LRScheduler):
    """lr * factor (not below min_lr) once the metric given to `step(metric)` has not improved
    for more than `patience` epochs; then wait `cooldown` epochs before counting again.
    Improving means below best * (1 - threshold) (mode 'min', threshold_mode 'rel'),
    best - threshold ('abs'), and the mirror images for mode 'max'. A change smaller than
    `eps` is not made. A NaN metric counts as no improvement, as in PyTorch.

    >>> import autodiff as ad, nn
    >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = nn.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1)
    >>> for loss in [1.0, 0.5, 0.6, 0.7, 0.4]:
    ...     sched.step(loss)
    >>> sched.get_last_lr()  # two epochs without improvement after 0.5
    [0.1]
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float | list[float] = 0.0, eps: float = 1e-8
                 ) -> None:
        self.optimizer = optimizer
        if not (real_number(factor) and 0 <= factor < 1):
            raise ValueError(f"ReduceLROnPlateau: factor must be a number in [0, 1), got "
                             f"{factor!r}")
        for name, v in (("patience", patience), ("cooldown", cooldown)):
            if not _integer(v) or v < 0:
                raise ValueError(f"ReduceLROnPlateau: {name} must be an integer >= 0, got {v!r}")
        for name, v in (("threshold", threshold), ("eps", eps)):
            if not (real_number(v) and v >= 0):
                raise ValueError(f"ReduceLROnPlateau: {name} must be a number >= 0, got {v!r}")
        n = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, list | tuple) else [min_lr] * n
        if len(min_lrs) != n or not all(real_number(v) and v >= 0 for v in min_lrs):
            raise ValueError(f"ReduceLROnPlateau: min_lr must be a number >= 0 or one per "
                             f"group ({n}), got {min_lr!r}")
        self.factor, self.patience, self.cooldown, self.eps = factor, patience, cooldown, eps
        self.min_lrs = min_lrs
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self._check_modes()
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.best, self.num_bad_epochs, self.cooldown_counter = self.mode_worse, 0, 0
        self.last_epoch = 0

    def _check_modes(self) -> None:
        if self.mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got "
                             f"{self.mode!r}")
        if self.threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got "
                             f"{self.threshold_mode!r}")

    def is_better(self, a: float, best: float) -> bool:
        """Whether metric `a` improves on `best` by more than the threshold."""
        if self.threshold_mode == "rel":
            scale = 1 - self.threshold if self.mode == "min" else 1 + self.threshold
            return a < best * scale if self.mode == "min" else a > best * scale
        return a < best - self.threshold if self.mode == "min" else a > best + self.threshold

    def step(self, metrics: Any) -> None:  # type: ignore[override]
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for g, low in zip(self.optimizer.param_groups, self.min_lrs):
                new = max(g["lr"] * self.factor, low)
                if g["lr"] - new > self.eps:
                    g["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._check_modes()


# -- PyTorch's factor schedules and CyclicLR: closed forms of the epoch, as every schedule here


class LinearLR(LRScheduler):
    """lr0 times a factor moving linearly from start_factor to end_factor over total_iters
    epochs, then end_factor: lr0 (start + (end - start) min(epoch, total_iters) / total_iters).

    >>> import autodiff as ad, nn
    >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = nn.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=3)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(sched.get_last_lr()[0]); sched.step()
    >>> lrs
    [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    recursive_in_pytorch = True

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1) -> None:
        if not (real_number(start_factor) and 0 < start_factor <= 1):
            raise ValueError(f"LinearLR: start_factor must be a number in (0, 1], got "
                             f"{start_factor!r}")
        if not (real_number(end_factor) and 0 <= end_factor <= 1):
            raise ValueError(f"LinearLR: end_factor must be a number in [0, 1], got "
                             f"{end_factor!r}")
        _at_least(self, "total_iters", total_iters, 1, integer=True)
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        done = min(epoch, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * done)


class ConstantLR(LRScheduler):
    """lr0 * factor for the first total_iters epochs, then lr0.

    >>> import autodiff as ad, nn
    >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = nn.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=2)
    >>> lrs = []
    >>> for _ in range(4):
    ...     lrs.append(sched.get_last_lr()[0]); sched.step()
    >>> lrs
    [0.5, 0.5, 1.0, 1.0]
    """

    recursive_in_pytorch = True

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if not (real_number(factor) and 0 <= factor <= 1):
            raise ValueError(f"ConstantLR: factor must be a number in [0, 1], got {factor!r}")
        if _integer(total_iters) and total_iters == 0:
            raise ValueError("ConstantLR: total_iters=0 makes a schedule that never applies "
                             "factor, and PyTorch's applies it from epoch 0 on and never lifts "
                             "it (its step and its closed form disagree); use total_iters >= 1, "
                             "or no schedule")
        _at_least(self, "total_iters", total_iters, 1, integer=True)
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * (self.factor if epoch < self.total_iters else 1.0)


class PolynomialLR(LRScheduler):
    """lr0 (1 - min(epoch, total_iters) / total_iters) ** power: down to 0 at total_iters.

    >>> import autodiff as ad, nn
    >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = nn.optim.lr_scheduler.PolynomialLR(opt, total_iters=4, power=2.0)
    >>> lrs = []
    >>> for _ in range(6):
    ...     lrs.append(sched.get_last_lr()[0]); sched.step()
    >>> lrs
    [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """

    recursive_in_pytorch = True

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        _at_least(self, "total_iters", total_iters, 1, integer=True)
        _at_least(self, "power", power, 0)
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * (1.0 - min(epoch, self.total_iters) / self.total_iters) ** self.power


class MultiplicativeLR(LambdaLR):
    """lr0 * lr_lambda(1) * ... * lr_lambda(epoch): each epoch multiplies the rate by the
    function of that epoch (one function, or one per group), each function called once per
    epoch, as PyTorch's. `state_dict()` holds the running products (and, as LambdaLR's, the
    attributes of callable objects).

    >>> import autodiff as ad, nn
    >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = nn.optim.lr_scheduler.MultiplicativeLR(opt, lambda epoch: 0.5)
    >>> sched.step(); sched.step(); sched.get_last_lr()
    [0.25]
    """

    recursive_in_pytorch = True


    def __init__(self, optimizer: Optimizer,
                 lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        self.product_epoch = 0
        self.products = [1.0] * len(optimizer.param_groups)
        super().__init__(optimizer, lr_lambda, last_epoch)

    def lrs_at(self, epoch: float, lrs: list[float]) -> list[float]:
        epoch = int(epoch)
        if epoch < self.product_epoch:  # going back (a fresh chain): multiply again from 0
            self.product_epoch, self.products = 0, [1.0] * len(self.products)
        while self.product_epoch < epoch:
            self.product_epoch += 1
            self.products = [p * f(self.product_epoch)
                             for p, f in zip(self.products, self.lr_lambdas)]
        return [lr * p for lr, p in zip(lrs, self.products)]


class CyclicLR(LRScheduler):
    """The cyclical learning rate (Smith), stepped once per batch: up from base_lr to max_lr
    over step_size_up steps, back down over step_size_down (default: the same), the cycle's
    height scaled by mode: 'triangular' (constant), 'triangular2' (halved each cycle) or
    'exp_range' (gamma ** step), or by a `scale_fn` of the cycle or of the step (`scale_mode`).
    With cycle_momentum, the momentum (Adam's beta1) moves the other way between max_momentum
    and base_momentum. base_lr, max_lr and the momenta take one value or one per group.
    `state_dict()` leaves out a `scale_fn` (code: the constructor rebuilds it).

    >>> import autodiff as ad, nn
    >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0, momentum=0.9)
    >>> sched = nn.optim.lr_scheduler.CyclicLR(opt, 0.1, 0.5, step_size_up=2)
    >>> lrs = []
    >>> for _ in range(6):
    ...     lrs.append(round(sched.get_last_lr()[0], 6)); sched.step()
    >>> lrs
    [0.1, 0.3, 0.5, 0.3, 0.1, 0.3]
    """

    def __init__(self, optimizer: Optimizer, base_lr: float | list[float],
                 max_lr: float | list[float], step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular", gamma: float = 1.0,
                 scale_fn: Callable[[float], float] | None = None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum: float | list[float] = 0.8,
                 max_momentum: float | list[float] = 0.9, last_epoch: int = -1) -> None:
        n = len(optimizer.param_groups)
        self.optimizer = optimizer
        self.lows, self.highs = _values(self, "base_lr", base_lr, n), _values(self, "max_lr",
                                                                              max_lr, n)
        _at_least(self, "step_size_up", step_size_up, 0, above=True)
        down = step_size_up if step_size_down is None else step_size_down
        _at_least(self, "step_size_down", down, 0, above=True)
        self.total_size = float(step_size_up + down)
        self.step_ratio = step_size_up / self.total_size
        if scale_fn is None and mode not in ("triangular", "triangular2", "exp_range"):
            raise ValueError(f"CyclicLR: mode must be 'triangular', 'triangular2' or "
                             f"'exp_range' (or give a scale_fn), got {mode!r}")
        if scale_fn is not None and scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: scale_mode must be 'cycle' or 'iterations', got "
                             f"{scale_mode!r}")
        _at_least(self, "gamma", gamma, 0)
        self.mode, self.gamma = mode, gamma
        self.scale_mode = scale_mode if scale_fn is not None else (
            "iterations" if mode == "exp_range" else "cycle")
        self.scale_fn = scale_fn
        self.cycle_momentum = bool(cycle_momentum)
        self.use_beta1 = "betas" in optimizer.defaults
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and not self.use_beta1:
                raise ValueError(f"CyclicLR: cycle_momentum needs an optimizer with momentum or "
                                 f"betas, {type(optimizer).__name__} has neither (pass "
                                 "cycle_momentum=False)")
            self.base_momenta = _values(self, "base_momentum", base_momentum, n)
            self.max_momenta = _values(self, "max_momentum", max_momentum, n)
        if last_epoch == -1:
            for g, low in zip(optimizer.param_groups, self.lows):
                g["lr"] = g["initial_lr"] = low
        super().__init__(optimizer, last_epoch)
        self.base_lrs = list(self.lows)

    def _scale(self, step: float) -> tuple[float, float]:
        """(where in the cycle's up-and-down, 0 to 1; the height's scale) at `step`."""
        cycle = math.floor(1 + step / self.total_size)
        x = 1.0 + step / self.total_size - cycle
        rise = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        at = cycle if self.scale_mode == "cycle" else step
        if self.scale_fn is not None:
            return rise, float(self.scale_fn(at))
        if self.mode == "triangular":
            return rise, 1.0
        if self.mode == "triangular2":
            return rise, 1 / (2.0 ** (at - 1))
        return rise, self.gamma ** at

    def lrs_at(self, epoch: float, lrs: list[float]) -> list[float]:
        rise, scale = self._scale(epoch)  # its own rates, whatever `lrs` (as OneCycleLR)
        return [low + (high - low) * rise * scale for low, high in zip(self.lows, self.highs)]

    def _apply_extras(self, epoch: float) -> None:
        if not self.cycle_momentum:
            return
        rise, scale = self._scale(epoch)
        for g, low, high in zip(self.optimizer.param_groups, self.base_momenta,
                                self.max_momenta):
            m = high - (high - low) * rise * scale
            if self.use_beta1:
                g["betas"] = (m, *g["betas"][1:])
            else:
                g["momentum"] = m

    def state_dict(self) -> dict[str, Any]:
        """As every schedule's, without `scale_fn` (loading keeps this schedule's).

        >>> import autodiff as ad, nn
        >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
        >>> sched = nn.optim.lr_scheduler.CyclicLR(opt, 0.1, 0.5, 2, scale_fn=lambda c: 1.0,
        ...                                        cycle_momentum=False)
        >>> "scale_fn" in sched.state_dict(), sched.state_dict()["last_epoch"]
        (False, 0)
        """
        return {k: v for k, v in super().state_dict().items() if k != "scale_fn"}


def _values(owner: LRScheduler, name: str, value: Any, n: int) -> list[float]:
    """One number >= 0 per group, from one number or a list of n."""
    values = list(value) if isinstance(value, list | tuple) else [value] * n
    if len(values) != n:
        raise ValueError(f"{type(owner).__name__}: {name} has {len(values)} values, the "
                         f"optimizer {n} parameter groups")
    for v in values:
        _at_least(owner, name, v, 0)
    return values
