"""What a run's config names, built: the data split, the model, the optimizer, the schedule.

>>> from nn.vision import build
>>> data = build.load_data("digits", seed=0, limit=100)
>>> model = build.make_model("mlp", data, width=16, depth=1)
>>> opt = build.make_optimizer("sgd", model.parameters(), lr=0.1, momentum=0.9,
...                            weight_decay=0.0)
>>> type(build.make_schedule("cosine", opt, epochs=3)).__name__
'CosineAnnealingLR'
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nn
from nn.vision import datasets, models

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
FIXED_DEPTH = ("lenet5", "resnet18")  # models whose depth is part of their name: no --depth
SCHEDULES = ("none", "cosine", "step", "inverse-time", "warmup-cosine")


def load_data(name: str, seed: int, limit: int = 0) -> datasets.Split:
    """Dataset `name` split with `seed`; `limit` > 0 keeps that many train and test images
    (an integer >= 0, else ValueError).

    >>> from nn.vision import build
    >>> d = build.load_data("digits", seed=0, limit=50)
    >>> len(d.y_train), len(d.y_test)
    (50, 50)
    """
    if not (isinstance(limit, int | np.integer) and not isinstance(limit, bool) and limit >= 0):
        raise ValueError(f"load_data: limit must be an integer >= 0 (0: all), got {limit!r}")
    d = datasets.load(name, seed)
    if limit:
        d.x_train, d.y_train = d.x_train[:limit], d.y_train[:limit]
        d.x_test, d.y_test = d.x_test[:limit], d.y_test[:limit]
    return d


def make_model(name: str, data: datasets.Split, dropout: float = 0.0, width: int | None = None,
               depth: int | None = None) -> nn.Module:
    """Model `name` for `data`'s image shape and classes; `depth` is ResNet's blocks per stage,
    MobileNet's blocks, MLP's hidden layers (LeNet-5 and ResNet-18 have a fixed depth:
    ValueError).

    >>> from nn.vision import build
    >>> d = build.load_data("digits", seed=0, limit=10)
    >>> build.make_model("lenet5", d, depth=3)
    Traceback (most recent call last):
    ...
    ValueError: lenet5 has a fixed depth; --depth applies to resnet8, resnet20, mobilenet, mlp
    """
    kw: dict[str, Any] = {"num_classes": data.num_classes, "dropout": dropout}
    if name == "mlp":
        kw["in_features"] = int(np.prod(data.image_shape))
    else:
        kw["in_channels"] = data.image_shape[0]
    if width is not None:
        kw["width"] = width
    if name == "vit_small_mnist":  # a 4 x 4 grid of patches whatever the image side (8, 28, 32)
        side = data.image_shape[-1]
        kw.update(image_size=side, patch_size=side // 4 if side % 4 == 0 else side)
    if depth is not None:
        if name in ("resnet8", "resnet20"):
            kw["blocks"] = depth
            return models.ResNet(**kw)
        if name in FIXED_DEPTH:
            raise ValueError(f"{name} has a fixed depth; --depth applies to resnet8, resnet20, "
                             "mobilenet, mlp")
        kw["depth"] = depth
    return models.get_model(name, **kw)


def make_optimizer(name: str, params: Any, lr: float, momentum: float,
                   weight_decay: float) -> nn.optim.Optimizer:
    """One of OPTIMIZERS; `momentum` is SGD's and RMSprop's momentum, Adam's beta1.

    >>> import autodiff as ad
    >>> from nn.vision import build
    >>> build.make_optimizer("adam", [ad.zeros(1, requires_grad=True)], 1e-3, 0.8,
    ...                      0.0).param_groups[0]["betas"]
    (0.8, 0.999)
    """
    if name == "sgd":
        return nn.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return nn.optim.Adam(params, lr=lr, betas=(momentum, 0.999), weight_decay=weight_decay)
    if name == "adamw":
        return nn.optim.AdamW(params, lr=lr, betas=(momentum, 0.999), weight_decay=weight_decay)
    return nn.optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


def make_schedule(name: str, opt: nn.optim.Optimizer, epochs: int) -> Any:
    """One of SCHEDULES over `epochs` (None for "none"), stepped once per epoch.

    >>> import autodiff as ad, nn
    >>> from nn.vision import build
    >>> opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0)
    >>> build.make_schedule("none", opt, 5) is None
    True
    """
    S = nn.optim.lr_scheduler
    if name == "cosine":
        return S.CosineAnnealingLR(opt, T_max=max(epochs, 1))
    if name == "step":
        return S.StepLR(opt, step_size=max(epochs // 3, 1), gamma=0.1)
    if name == "inverse-time":
        return S.InverseTimeDecay(opt, decay_rate=0.5)
    if name == "warmup-cosine":
        return S.LinearWarmup(opt, 1, 0.1, after=S.CosineAnnealingLR(opt, max(epochs - 1, 1)))
    return None
