"""Train the reference models and write the results table of docs/vision.md.

    python benchmarks/vision_results.py            # a few minutes on 2 cores

LeNet-5 and ResNet-8 on MNIST-5k (4,000 train / 1,000 test) through the training command, and
examples/digits_mlp.py on scikit-learn's digits.
The table replaces the lines between the RESULTS markers in docs/vision.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nn.vision.train import main as vision

# name, data, flags, target, seeds (LeNet-5 on three seeds: the split and the initialization
# change with the seed, and one run alone says little at this size)
RUNS = [
    ("LeNet-5", "mnist-5k", ["--model", "lenet5", "--epochs", "40", "--batch-size", "32",
                             "--optimizer", "adamw", "--lr", "3e-3", "--weight-decay", "1e-2",
                             "--dropout", "0.1", "--augment"], 0.98, (0, 1, 2)),
    ("ResNet-8", "mnist-5k", ["--model", "resnet8", "--epochs", "10", "--batch-size", "64",
                              "--lr", "3e-3", "--augment"], 0.98, (0,)),
]
MLP_TARGET = 0.97


def digits_mlp() -> dict:
    """examples/digits_mlp.py with its defaults (the MLP the issue names)."""
    path = Path(__file__).resolve().parents[1] / "examples" / "digits_mlp.py"
    spec = importlib.util.spec_from_file_location("digits_mlp", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    epochs = 20
    r = module.main(["--epochs", str(epochs)])
    return {"name": "MLP 64-128-128-10 (examples/digits_mlp.py)", "data": "digits",
            "accuracy": r.test_accuracy, "target": MLP_TARGET, "seconds": r.seconds / epochs,
            "epochs": epochs, "params": 64 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10}


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="runs/results")
    p.add_argument("--doc", default=str(Path(__file__).resolve().parents[1] / "docs" /
                                        "vision.md"))
    args = p.parse_args(argv)
    rows = []
    for name, data, flags, target, seeds in RUNS:
        for seed in seeds:
            m = vision(["train", "--data", data, *flags, "--seed", str(seed), "--out",
                        f"{args.out}/{name.split()[0]}-seed{seed}", "--overwrite",
                        "--no-progress"])  # the table is measured afresh each time
            rows.append({"name": f"{name}, seed {seed}", "data": data,
                         "accuracy": m["test_accuracy"], "target": target,
                         "seconds": m["seconds_per_epoch"],
                         "epochs": len(m["history"]["seconds"]), "params": m["parameters"]})
    rows.append(digits_mlp())
    lines = ["| model | data | test accuracy | target | epochs | median seconds / epoch "
             "| parameters |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        ok = "met" if r["accuracy"] >= r["target"] else "NOT met"
        lines.append(f"| {r['name']} | {r['data']} | {r['accuracy']:.1%} | "
                     f">= {r['target']:.0%} ({ok}) | {r['epochs']} | {r['seconds']:.1f} | "
                     f"{r['params']:,} |")
    lines.append(f"\nMeasured by `python benchmarks/vision_results.py` on {platform.machine()}, "
                 f"{platform.python_version()}, 2 cores.")
    doc = Path(args.doc)
    text = doc.read_text()
    table = "\n".join(lines)
    new = re.sub(r"(<!-- RESULTS -->\n).*?(\n<!-- /RESULTS -->)",
                 lambda m_: m_.group(1) + table + m_.group(2), text, flags=re.S)
    doc.write_text(new)
    print(table)
    return rows


if __name__ == "__main__":
    main()
