"""How close the convolutions run to the machine's matrix-product limit: the GEMM GFLOP/s of
NumPy (one thread, 1024x1024 float32), then each convolution of ResNet-8 (batch 64, 1x28x28
input, float32) timed alone, forward and backward, in GFLOP/s, this engine beside PyTorch.

    python benchmarks/conv_layers.py      # make bench runs every workload

A convolution with an O x C x kh x kw kernel and an N x O x Ho x Wo output costs
2 N O Ho Wo C kh kw / groups flops forward; its backward costs twice that (the input gradient
and the weight gradient, each one such product). Writes benchmarks/results/conv_layers.json.
"""

from __future__ import annotations

import argparse
import time

# isort: off
import timing  # first: it fixes the thread count before NumPy loads
from timing import torch
import numpy as np

# isort: on
import autodiff as ad
import nn
import nn.functional as F
from nn.functional.conv import _pair
from nn.vision.models import resnet8

BATCH = 64


def gemm_gflops(repeats: int) -> dict[str, float]:
    """GFLOP/s of one 1024x1024 float32 matrix product, NumPy (and PyTorch), best of repeats."""
    rng = np.random.default_rng(0)
    a, b = (rng.random((1024, 1024), dtype=np.float32) for _ in range(2))
    fns = {"numpy": lambda: a @ b}
    if torch is not None:
        ta, tb = torch.tensor(a), torch.tensor(b)
        fns["pytorch"] = lambda: ta @ tb
    flops = 2 * 1024**3
    return {k: flops / timing.medians({k: f}, repeats, steps=2)[k] / 1e9 for k, f in fns.items()}


def resnet8_convs() -> list[tuple[str, tuple[int, ...], nn.Conv2d]]:
    """(name, input shape, layer) of every convolution of ResNet-8, in forward order."""
    model = resnet8()
    seen: list[tuple[str, tuple[int, ...], nn.Conv2d]] = []
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(lambda m, args, out, name=name:
                                    seen.append((name, args[0].shape, m)))
    with ad.no_grad():
        model(ad.zeros((BATCH, 1, 28, 28)))
    return seen


def time_layer(x_shape: tuple[int, ...], layer: nn.Conv2d, repeats: int) -> dict[str, float]:
    """Median seconds of the forward and of the backward, engine and PyTorch."""
    rng = np.random.default_rng(0)
    xa = rng.random(x_shape, dtype=np.float32)
    wa = layer.weight.data
    s, p = layer.stride, layer.padding
    x, w = ad.tensor(xa, requires_grad=True), ad.tensor(wa, requires_grad=True)
    out = F.conv2d(x, w, stride=s, padding=p)
    g = ad.tensor(rng.random(out.shape, dtype=np.float32))
    fns = {"autodiff": (lambda: F.conv2d(x, w, stride=s, padding=p),
                        lambda y: y.backward(g))}
    if torch is not None:
        tx, tw = torch.tensor(xa, requires_grad=True), torch.tensor(wa, requires_grad=True)
        tg = torch.tensor(g.data)
        fns["pytorch"] = (lambda: torch.nn.functional.conv2d(tx, tw, stride=s, padding=p),
                          lambda y: y.backward(tg))
    times: dict[str, list[float]] = {f"{k} {d}": [] for k in fns for d in ("fwd", "bwd")}
    for r in range(repeats + 2):
        for k, (fwd, bwd) in fns.items():
            t0 = time.perf_counter()
            y = fwd()
            t1 = time.perf_counter()
            bwd(y)
            t2 = time.perf_counter()
            if r >= 2:  # two warm-up rounds
                times[f"{k} fwd"].append(t1 - t0)
                times[f"{k} bwd"].append(t2 - t1)
    return {k: float(np.median(v)) for k, v in times.items()}


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=15)
    args = p.parse_args(argv)
    gemm = gemm_gflops(args.repeats)
    print("GEMM 1024x1024 float32, one thread: "
          + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in gemm.items()))
    layers = []
    print(f"{'layer':24s} {'input':18s} {'MFLOP':>7s}  GFLOP/s fwd (PyTorch)  bwd (PyTorch)")
    for name, x_shape, layer in resnet8_convs():
        o, c, kh, kw = layer.weight.shape
        n = x_shape[0]
        (sh, sw), (ph, pw) = _pair(layer.stride, "stride"), _pair(layer.padding, "padding")
        ho, wo = (x_shape[2] + 2 * ph - kh) // sh + 1, (x_shape[3] + 2 * pw - kw) // sw + 1
        flops = 2 * n * o * ho * wo * c * kh * kw
        t = time_layer(x_shape, layer, args.repeats)
        rate = {k: (flops if k.endswith("fwd") else 2 * flops) / v / 1e9 for k, v in t.items()}
        row = {"layer": name, "input": list(x_shape), "weight": [o, c, kh, kw],
               "stride": sh, "mflop_forward": flops / 1e6, "gflops": rate,
               "ms": {k: v * 1e3 for k, v in t.items()}}
        layers.append(row)
        pt = ("pytorch fwd" in rate and f"({rate['pytorch fwd']:5.1f})") or ""
        pb = ("pytorch bwd" in rate and f"({rate['pytorch bwd']:5.1f})") or ""
        print(f"{name:24s} {tuple(x_shape)!s:18s} {flops / 1e6:7.1f}  "
              f"{rate['autodiff fwd']:6.1f} {pt:9s}        {rate['autodiff bwd']:6.1f} {pb}")
    total = {k: sum(r["ms"][k] for r in layers) for k in layers[0]["ms"]}
    flops = sum(r["mflop_forward"] for r in layers) * 1e6
    overall = {k: (flops if k.endswith("fwd") else 2 * flops) / (v / 1e3) / 1e9
               for k, v in total.items()}
    figures = {"autodiff": 3 * flops / (total["autodiff fwd"] + total["autodiff bwd"]) / 1e6,
               "numpy": gemm["numpy"]}
    if "pytorch fwd" in total:
        figures["pytorch"] = 3 * flops / (total["pytorch fwd"] + total["pytorch bwd"]) / 1e6
    return timing.report(
        "conv_layers", "ResNet-8's convolutions, forward + backward, GFLOP/s (NumPy: the GEMM "
        "1024x1024 limit)", "GFLOP/s", figures,
        {"gemm_gflops": gemm, "layers": layers, "overall_gflops": overall}, ratios=False)


if __name__ == "__main__":
    main()
