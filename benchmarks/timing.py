"""What every benchmark shares: the thread count, alternating timed repeats, the machine's
facts, and the JSON a run writes.

Import this module before NumPy: it fixes the BLAS thread count (BENCH_THREADS, default 1)
for this engine, hand-written NumPy and PyTorch alike; BENCH_THREADS=all leaves every
library at its own default (all cores). The scripts beside it do `import timing` first (they
run as `python benchmarks/<name>.py`).

By default the process is what a user's script gets: nothing but `import autodiff`.
BENCH_KEEP_FREED_MEMORY=1 also calls `autodiff.keep_freed_memory()` (glibc's malloc keeps
freed memory for reuse), for the whole process, so for all three alike; `make bench` reports
that as a row of its own.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_THREADS = os.environ.get("BENCH_THREADS", "1")
THREADS: int | None = None if _THREADS == "all" else int(_THREADS)  # None: libraries' defaults
if THREADS is not None:
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, str(THREADS))

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"

from autodiff.memory import keep_freed_memory  # noqa: E402

KEEP_FREED = os.environ.get("BENCH_KEEP_FREED_MEMORY", "0") == "1" and keep_freed_memory()

try:
    import torch

    if THREADS is not None:
        torch.set_num_threads(THREADS)
except ImportError:  # the optional extra `bench`
    torch = None


STEPS = 4  # timed steps per implementation in each round (after one untimed step)


def medians(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 3,
            steps: int = STEPS) -> dict[str, float]:
    """Median seconds of each function: warm-up first, then `repeats` rounds in which the
    implementations alternate, so a slow moment on a shared machine hits all of them.

    In a round each implementation runs once untimed, then `steps` times, each timed: a step
    starts from the state its own previous step left (caches, branch predictors, the
    allocator), as in a training loop, not from another library's (docs/performance.md,
    the harness row)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            fn()
            for _ in range(steps):
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
    return {name: statistics.median(v) for name, v in times.items()}


@functools.cache
def _cross_entropy() -> Callable[..., Any]:
    """nn.functional.cross_entropy, imported once, on first use (not at import time: this
    module must be imported before NumPy, to set the thread count)."""
    import nn.functional as F

    return F.cross_entropy


def step_engine(model: Any, opt: Any, x: Any, y: np.ndarray) -> Any:
    """One training step of this engine: softmax cross-entropy, backward, optimizer step."""
    loss = _cross_entropy()(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


def step_torch(model: Any, opt: Any, x: Any, y: Any) -> None:
    """The same step in PyTorch."""
    loss = torch.nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


def compare_steps(workload: str, title: str, repeats: int, model: Any, opt: Any,
                  hand_step: Callable[[np.ndarray, np.ndarray], object], x: np.ndarray,
                  y: np.ndarray, make_torch: Callable[[], tuple[Any, Any]]
                  ) -> dict[str, object]:
    """Time one training step of the engine, the same step written in NumPy, and PyTorch
    (`make_torch()` gives its model and optimizer); check that the engine's float32 model
    computed in float32 only (loss, parameters, buffers, gradients); report in ms."""
    import autodiff as ad

    xt = ad.tensor(x)
    fns: dict[str, Callable[[], object]] = {
        "autodiff": lambda: step_engine(model, opt, xt, y), "numpy": lambda: hand_step(x, y)}
    if torch is not None:
        tm, topt = make_torch()
        tx, ty = torch.tensor(x), torch.tensor(y)
        fns["pytorch"] = lambda: step_torch(tm, topt, tx, ty)
    med = medians(fns, repeats)
    loss = step_engine(model, opt, xt, y)
    dtypes = sorted({str(loss.dtype)} | {str(v.dtype) for v in model.state_dict().values()}
                    | {str(p.grad.dtype) for p in model.parameters()})
    assert dtypes == ["float32"], f"{workload}: a float32 model computed in {dtypes}"
    return report(workload, f"{title}, float32 (median of {repeats} rounds x {STEPS} steps)", "ms",
                  {k: v * 1e3 for k, v in med.items()}, {"dtypes": dtypes})


def machine() -> dict[str, object]:
    """The facts a reader needs to compare figures across machines."""
    threads: object = THREADS
    if THREADS is None:
        threads = f"default ({torch.get_num_threads()} in PyTorch)" if torch else "default"
    return {"cpus": os.cpu_count(), "threads": threads, "load_average": os.getloadavg(),
            "python": platform.python_version(),
            "numpy": np.__version__, "torch": torch.__version__ if torch else None,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
            "keep_freed_memory": KEEP_FREED,
            "processor": platform.processor() or platform.machine()}


def report(name: str, title: str, unit: str, figures: dict[str, float],
           extra: dict[str, object] | None = None, ratios: bool = True) -> dict[str, object]:
    """Print one workload's medians with their ratio to PyTorch and to hand-written NumPy,
    and write benchmarks/results/<name>.json."""
    print(f"{name}: {title}")
    torch_ref = figures.get("pytorch") if ratios else None
    numpy_ref = figures.get("numpy") if ratios else None
    for impl, value in figures.items():
        ratios = []
        if torch_ref and impl != "pytorch":
            ratios.append(f"{value / torch_ref:5.2f}x PyTorch")
        if numpy_ref and impl not in ("numpy", "pytorch"):
            ratios.append(f"{value / numpy_ref:5.2f}x NumPy")
        print(f"  {impl:10s} {value:10.3f} {unit:6s} {'  '.join(ratios)}")
    result: dict[str, object] = {"workload": name, "title": title, "unit": unit,
                                 "median": figures, "machine": machine(), **(extra or {})}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
