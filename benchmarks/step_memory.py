"""Peak memory of one training step, LeNet-5 (SGD) and ResNet-8 (Adam), batch 64, float32:
this engine beside PyTorch, each in a fresh process, on the default path.

    python benchmarks/step_memory.py      # make bench runs every workload

Once the model, optimizer and batch exist, the process's resident high-water mark is reset
(Linux: /proc/self/clear_refs) and three steps run; the figure is their high-water mark above
the memory resident before the first (MiB): what training needs, memory an allocator keeps
for the next step included. For this engine it also gives tracemalloc's peak of a fourth step
(NumPy reports its arrays to tracemalloc; PyTorch does not). Writes
benchmarks/results/step_memory.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

# isort: off
import timing  # first: it fixes the thread count before NumPy loads
from timing import torch
import numpy as np

# isort: on

MODELS = {"lenet5": "LeNet-5, SGD", "resnet8": "ResNet-8, Adam"}


def _status(field: str) -> float:
    """A field of /proc/self/status in MiB."""
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+) kB", text).group(1)) / 1024  # type: ignore


def one(impl: str, model_name: str) -> dict[str, float]:
    """In this process: the peak of three steps above the memory before them (MiB)."""
    rng = np.random.default_rng(0)
    x = rng.random((64, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    if impl == "autodiff":
        import autodiff as ad
        import nn
        from nn.vision.models import LeNet5, resnet8

        ad.manual_seed(0)
        model = LeNet5() if model_name == "lenet5" else resnet8()
        opt = (nn.optim.SGD(model.parameters(), lr=0.01) if model_name == "lenet5"
               else nn.optim.Adam(model.parameters(), lr=1e-3))
        xt = ad.tensor(x)

        def step() -> None:
            timing.step_engine(model, opt, xt, y)
    else:
        from cnn_step import torch_lenet
        from resnet_step import torch_resnet8

        tm = torch_lenet() if model_name == "lenet5" else torch_resnet8()
        topt = (torch.optim.SGD(tm.parameters(), lr=0.01) if model_name == "lenet5"
                else torch.optim.Adam(tm.parameters(), lr=1e-3))
        tx, ty = torch.tensor(x), torch.tensor(y)

        def step() -> None:
            timing.step_torch(tm, topt, tx, ty)
    gc.collect()
    before = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # the high-water mark restarts from here
    for _ in range(3):
        step()
    out = {"rss_peak": _status("VmHWM") - before}
    if impl == "autodiff":
        tracemalloc.start()
        step()
        out["tracemalloc_peak"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return out


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--one", nargs=2, metavar=("IMPL", "MODEL"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(one(*args.one)))
        return {}
    impls = ["autodiff"] + (["pytorch"] if torch is not None else [])
    rows = []
    for model_name, title in MODELS.items():
        figures, extra = {}, {}
        for impl in impls:
            res = subprocess.run([sys.executable, __file__, "--one", impl, model_name],
                                 check=True, capture_output=True, text=True)
            got = json.loads(res.stdout.splitlines()[-1])
            figures[impl] = got["rss_peak"]
            extra.update({f"{impl} {k}": v for k, v in got.items()})
        rows.append(timing.report(
            f"step_memory ({model_name})", f"{title}, batch 64: peak resident memory of three "
            f"training steps above the memory before them (fresh process each)", "MiB", figures,
            {"details": extra}))
    result = {"workload": "step_memory", "rows": rows}
    (timing.RESULTS / "step_memory.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
