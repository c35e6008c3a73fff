"""Every workload, one after another, each in its own process; then one table of medians and
ratios, written to benchmarks/results/summary.json. This is `make bench`.

    python benchmarks/run.py                     # all workloads (about 5 minutes on 2 cores)
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
WORKLOADS = ["mlp_step", "cnn_step", "resnet_step", "op_overhead", "deep_chain", "train_memory"]
WORKLOADS += ["lstm_step"]
BLAS_BOUND = {"mlp_step", "cnn_step", "resnet_step"}
QUICK = {"mlp_step": ["--repeats", "20"], "cnn_step": ["--repeats", "5"],
         "resnet_step": ["--repeats", "3"], "op_overhead": ["--repeats", "10"],
         "deep_chain": ["--ops", "20000"], "train_memory": ["--steps", "200"],
         "lstm_step": ["--repeats", "10"]}
WORKLOADS.append("vit_step")
QUICK["vit_step"] = ["--repeats", "3"]


def run(name: str, args: list[str], env: dict[str, str]) -> dict[str, object]:
    subprocess.run([sys.executable, str(HERE / f"{name}.py"), *args], env=env, check=True)
    return json.loads((HERE / "results" / f"{name}.json").read_text())


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
        extra = QUICK[name] if args.quick else []
        results.append(run(name, extra, dict(os.environ)))
        if coretype and name in BLAS_BOUND:
            env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
            r = run(name, extra, env)
            r["workload"] = f"{name} (OPENBLAS_CORETYPE unset)"
            results.append(r)
        print()
    print("| workload | unit | autodiff | hand NumPy | PyTorch | autodiff / PyTorch |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in results:
        m = r["median"]
        ours, ref = m.get("autodiff"), m.get("pytorch")
        ratio = f"{ours / ref:.2f}x" if ours and ref and r["unit"] != "MiB" else ""
        cells = [f"{m[k]:.3g}" if k in m else "" for k in ("autodiff", "numpy", "pytorch")]
        print(f"| {r['workload']} | {r['unit']} | {' | '.join(cells)} | {ratio} |")
    (HERE / "results" / "summary.json").write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
