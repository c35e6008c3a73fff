"""Every workload, one after another, each in its own process; then one table of medians and
ratios, written to benchmarks/results/summary.json. This is `make bench`.

Each workload first runs on the default path (what a user's script gets from `import
autodiff`: no allocator call) on one thread. The training steps then run twice more, each a
row of its own: with `autodiff.keep_freed_memory()` called (one thread), and with every
library at its default thread count (all cores). The ratio column is always of time (for
demo_throughput, measured in images/s, PyTorch's images/s over ours). The last column is the
target ratio to PyTorch of issue 19, where there is one.

    python benchmarks/run.py                     # all workloads (about 15 minutes on 2 cores)
    python benchmarks/run.py mlp_step cnn_step   # some of them
    python benchmarks/run.py --quick             # fewer repeats, shorter chain: a smoke run

When the machine sets OPENBLAS_CORETYPE (which can halve NumPy's matrix-product speed), the
workloads bound by matrix products run twice: as the machine is, and with it unset.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKLOADS = ["mlp_step", "cnn_step", "resnet_step", "op_overhead", "deep_chain", "train_memory",
             "conv_layers", "step_memory", "lstm_step", "vit_step", "demo_throughput"]
BLAS_BOUND = {"mlp_step", "cnn_step", "resnet_step"}
# Workloads measured once, on one thread and the default path; every other one also runs in
# each of VARIANTS.
ONCE = {"op_overhead", "deep_chain", "train_memory", "conv_layers", "step_memory"}
DEFAULT = {"BENCH_THREADS": "1", "BENCH_KEEP_FREED_MEMORY": "0"}
VARIANTS = {"keep_freed_memory()": {"BENCH_THREADS": "1", "BENCH_KEEP_FREED_MEMORY": "1"},
            "all cores": {"BENCH_THREADS": "all", "BENCH_KEEP_FREED_MEMORY": "0"}}
TARGETS = {("mlp_step", ""): 0.8, ("mlp_step", "all cores"): 1.0, ("cnn_step", ""): 1.1,
           ("cnn_step", "all cores"): 1.2, ("resnet_step", ""): 1.2,
           ("resnet_step", "all cores"): 1.3, ("op_overhead", ""): 0.8}
QUICK = {"mlp_step": ["--repeats", "20"], "cnn_step": ["--repeats", "5"],
         "resnet_step": ["--repeats", "3"], "op_overhead": ["--repeats", "10"],
         "deep_chain": ["--ops", "20000"], "train_memory": ["--steps", "200"],
         "conv_layers": ["--repeats", "3"], "step_memory": [], "lstm_step": ["--repeats", "10"],
         "vit_step": ["--repeats", "3"], "demo_throughput": ["--epochs", "2"]}


def run(name: str, args: list[str], env: dict[str, str]) -> dict[str, object]:
    subprocess.run([sys.executable, str(HERE / f"{name}.py"), *args], env=env, check=True)
    return json.loads((HERE / "results" / f"{name}.json").read_text())


def rows(result: dict[str, object]) -> list[dict[str, object]]:
    """A workload's rows of the table: one, or several (step_memory: one per model)."""
    return result.get("rows", [result])  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> list[dict[str, object]]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workloads", nargs="*", help=", ".join(WORKLOADS) + " (default: all)")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    unknown = sorted(set(args.workloads) - set(WORKLOADS))
    if unknown:
        p.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    results = []
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    for name in args.workloads or WORKLOADS:
        extra = QUICK.get(name, []) if args.quick else []
        results += rows(run(name, extra, {**os.environ, **DEFAULT}))
        if coretype and name in BLAS_BOUND:
            env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
            r = run(name, extra, {**env, **DEFAULT})
            r["variant"] = "OPENBLAS_CORETYPE unset"
            results.append(r)
        for variant, env in VARIANTS.items() if name not in ONCE else ():
            r = run(name, extra, {**os.environ, **env})
            r["variant"] = variant
            results.append(r)
        print()
    print("| workload | variant | unit | autodiff | hand NumPy | PyTorch | autodiff / PyTorch "
          "| target |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        m, variant = r["median"], r.get("variant", "")
        ours, ref = m.get("autodiff"), m.get("pytorch")
        comparable = r["workload"] != "train_memory" and r["unit"] != "GFLOP/s"
        if r["unit"] == "img/s":  # a rate: time per image is its inverse
            ours, ref = ref, ours
        ratio = f"{ours / ref:.2f}x" if ours and ref and comparable else ""
        cells = [f"{m[k]:.3g}" if k in m else "" for k in ("autodiff", "numpy", "pytorch")]
        target = TARGETS.get((r["workload"], variant))
        print(f"| {r['workload']} | {variant or '1 thread'} | {r['unit']} | {' | '.join(cells)} "
              f"| {ratio} | {f'<= {target}x' if target else ''} |")
    (HERE / "results" / "summary.json").write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
