"""One AdamW step of vit_small_mnist (16 patches of 7x7, dim 64, depth 4, 4 heads, MLP 128;
nn.vision.vit) on 1x28x28, batch 64, float32: this engine and the same network in PyTorch
(no hand-written NumPy twin: a transformer's backward by hand is a model of its own).

    python benchmarks/vit_step.py      # make bench runs every workload

Writes benchmarks/results/vit_step.json.
"""

from __future__ import annotations

import argparse

# isort: off
import timing  # first: it fixes the thread count before NumPy loads
from timing import torch
import numpy as np

# isort: on
import autodiff as ad
import nn
from nn.vision.vit import vit_small_mnist

BATCH, LR = 64, 1e-3


def torch_vit(model: nn.Module):
    """vit_small_mnist in PyTorch (pre-norm encoder layers, GELU, LayerNorm eps 1e-6), with
    the engine model's weights."""
    T = torch.nn

    class ViT(T.Module):
        def __init__(self):
            super().__init__()
            d = model.hidden_dim
            self.conv_proj = T.Conv2d(1, d, 7, stride=7)
            self.class_token = T.Parameter(torch.zeros(1, 1, d))
            self.pos_embedding = T.Parameter(torch.zeros(1, 17, d))
            layer = T.TransformerEncoderLayer(d, 4, model.mlp_dim, dropout=0.0,
                                              activation="gelu", layer_norm_eps=1e-6,
                                              batch_first=True, norm_first=True)
            self.encoder = T.TransformerEncoder(layer, 4, norm=T.LayerNorm(d, eps=1e-6),
                                                enable_nested_tensor=False)
            self.head = T.Linear(d, 10)

        def forward(self, x):
            x = self.conv_proj(x).flatten(2).transpose(1, 2)
            x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
            return self.head(self.encoder(x + self.pos_embedding)[:, 0])

    tm = ViT()
    torch.nn.init.normal_(tm.head.weight, std=0.02)  # a zero head would leave most grads zero
    return tm, torch.optim.AdamW(tm.parameters(), lr=LR)


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=10)
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)
    ad.manual_seed(0)
    model = vit_small_mnist()
    nn.init.normal_(model.heads.head.weight, std=0.02)
    model.train()
    opt = nn.optim.AdamW(model.parameters(), lr=LR)
    xt = ad.tensor(x)
    fns = {"autodiff": lambda: timing.step_engine(model, opt, xt, y)}
    if torch is not None:
        tm, topt = torch_vit(model)
        tx, ty = torch.tensor(x), torch.tensor(y)
        fns["pytorch"] = lambda: timing.step_torch(tm, topt, tx, ty)
    med = timing.medians(fns, args.repeats)
    loss = timing.step_engine(model, opt, xt, y)
    dtypes = sorted({str(loss.dtype)} | {str(v.dtype) for v in model.state_dict().values()}
                    | {str(p.grad.dtype) for p in model.parameters()})
    assert dtypes == ["float32"], f"vit_step: a float32 model computed in {dtypes}"
    title = (f"vit_small_mnist on 1x28x28, batch {BATCH}, one AdamW step, float32 (median of "
             f"{args.repeats} rounds x {timing.STEPS} steps)")
    return timing.report("vit_step", title, "ms", {k: v * 1e3 for k, v in med.items()},
                         {"dtypes": dtypes})


if __name__ == "__main__":
    main()
