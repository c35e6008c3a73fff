"""Batch transforms for NCHW arrays, vectorized over the batch and seeded.

Each takes a batch (N, C, H, W) or one image (C, H, W), as torchvision's do, and returns the
same shape; the random ones draw per image. The random ones keep their generator's state in
`state_dict()` (a Compose, the list of its transforms' states), so a resumed training run draws
the same augmentations.

>>> import numpy as np
>>> from nn.vision import transforms as T
>>> t = T.Compose([T.RandomCrop(8, padding=2, seed=0), T.RandomHorizontalFlip(seed=0)])
>>> t(np.zeros((4, 1, 8, 8), np.float32)).shape
(4, 1, 8, 8)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def _as_batch(name: str, x: np.ndarray) -> tuple[np.ndarray, bool]:
    """`x` as a batch (N, C, H, W), and whether it was one image (C, H, W); else ValueError."""
    x = np.asarray(x)
    if x.ndim not in (3, 4):
        raise ValueError(f"{name}: expects images (N, C, H, W) or one image (C, H, W), got "
                         f"shape {x.shape}")
    return (x[None], True) if x.ndim == 3 else (x, False)


class _Seeded:
    """A transform drawing from its own generator, `self.rng`, whose state it saves."""

    rng: np.random.Generator

    def state_dict(self) -> dict[str, Any]:
        """The generator's state (plain numbers, for nn.save).

        >>> import numpy as np
        >>> from nn.vision import transforms as T
        >>> flip = T.RandomHorizontalFlip(seed=0)
        >>> state = flip.state_dict(); a = flip(np.ones((8, 1, 1, 2), np.float32))
        >>> flip.load_state_dict(state)
        >>> bool((flip(np.ones((8, 1, 1, 2), np.float32)) == a).all())
        True
        """
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict()`: the next calls draw what they drew after it was taken."""
        self.rng.bit_generator.state = state["rng"]


class Compose:
    """Apply batch transforms one after another.

    >>> import numpy as np
    >>> from nn.vision import transforms as T
    >>> t = T.Compose([T.Normalize([0.5], [0.5]), T.RandomHorizontalFlip(p=1.0, seed=0)])
    >>> t(np.array([[[[0.0, 1.0]]]], np.float32))
    array([[[[ 1., -1.]]]], dtype=float32)
    """
    def __init__(self, transforms: Sequence[Callable[[np.ndarray], np.ndarray]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        for t in self.transforms:
            x = t(x)
        return x

    def state_dict(self) -> dict[str, Any]:
        """{"transforms": [each transform's state_dict(), None for one without]}.

        >>> from nn.vision import transforms as T
        >>> t = T.Compose([T.Normalize([0.5], [0.5]), T.RandomAffine(seed=0)])
        >>> [type(s).__name__ for s in t.state_dict()["transforms"]]
        ['NoneType', 'dict']
        """
        return {"transforms": [t.state_dict() if callable(getattr(t, "state_dict", None))
                               else None for t in self.transforms]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict()` of a Compose of the same transforms; another is refused."""
        states = state["transforms"]
        kept = [callable(getattr(t, "load_state_dict", None)) for t in self.transforms]
        if len(states) != len(kept) or any((s is None) == k for s, k in zip(states, kept)):
            raise ValueError(f"Compose.load_state_dict: a state for {len(states)} transforms "
                             f"({[s is not None for s in states]} keep one), this Compose "
                             f"has {len(kept)} ({kept})")
        for t, s in zip(self.transforms, states):
            if s is not None:
                t.load_state_dict(s)  # type: ignore[attr-defined]


class Normalize:
    """(x - mean) / std per channel.

    >>> import numpy as np
    >>> from nn.vision import transforms as T
    >>> T.Normalize([0.5], [0.25])(np.ones((1, 1, 1, 2), np.float32))
    array([[[[2., 2.]]]], dtype=float32)
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        self.mean = np.asarray(mean, np.float64).reshape(-1)
        self.std = np.asarray(std, np.float64).reshape(-1)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """(x - mean) / std in x's float dtype, as torchvision's Normalize computes it."""
        x4, single = _as_batch("Normalize", x)
        if not np.issubdtype(x4.dtype, np.floating):
            raise TypeError(f"Normalize: expects float images, got {x4.dtype} (scale integer "
                            "images to [0, 1] first: x / 255)")
        c = x4.shape[1]
        for what, v in (("mean", self.mean), ("std", self.std)):
            if len(v) not in (1, c):
                raise ValueError(f"Normalize: {len(v)} {what} values for images of {c} "
                                 f"channels (shape {x4.shape})")
        mean = self.mean.astype(x4.dtype).reshape(1, -1, 1, 1)
        std = self.std.astype(x4.dtype).reshape(1, -1, 1, 1)
        if (std == 0).any():
            raise ValueError(f"Normalize: std {self.std.tolist()} is zero in {x4.dtype}: "
                             "division by zero")
        out = (x4 - mean) / std
        return out[0] if single else out


class RandomCrop(_Seeded):
    """Pad by `padding` (zeros) and cut a random window of `size` (an int: a square; or
    (height, width)), per image.

    >>> import numpy as np
    >>> from nn.vision import transforms as T
    >>> T.RandomCrop(4, padding=1, seed=0)(np.ones((2, 1, 4, 4), np.float32)).shape
    (2, 1, 4, 4)
    >>> T.RandomCrop((2, 3), seed=0)(np.ones((1, 4, 4), np.float32)).shape
    (1, 2, 3)
    """

    def __init__(self, size: int | Sequence[int], padding: int = 0,
                 seed: int | None = None) -> None:
        pair = ((size, size) if isinstance(size, int | np.integer) else
                tuple(size) if isinstance(size, Sequence) else (size,))
        if len(pair) != 2 or not all(isinstance(v, int | np.integer) and v > 0 for v in pair):
            raise ValueError(f"RandomCrop: size must be a positive int or (height, width), "
                             f"got {size!r}")
        if not isinstance(padding, int | np.integer) or padding < 0:
            raise ValueError(f"RandomCrop: padding must be an int >= 0, got {padding!r}")
        self.size, self.padding = size, padding
        self._hw = (int(pair[0]), int(pair[1]))
        self.rng = np.random.default_rng(seed)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x4, single = _as_batch("RandomCrop", x)
        n, c, h, w = x4.shape
        p, (th, tw) = self.padding, self._hw
        if th > h + 2 * p or tw > w + 2 * p:
            raise ValueError(f"RandomCrop: the crop ({th}, {tw}) is larger than the padded "
                             f"image ({h + 2 * p}, {w + 2 * p}) (images {x4.shape}, "
                             f"padding={p})")
        xp = np.pad(x4, ((0, 0), (0, 0), (p, p), (p, p)))
        top = self.rng.integers(0, h + 2 * p - th + 1, n)
        left = self.rng.integers(0, w + 2 * p - tw + 1, n)
        rows = top[:, None] + np.arange(th)  # (n, th)
        cols = left[:, None] + np.arange(tw)
        out = xp[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
                 rows[:, None, :, None], cols[:, None, None, :]]
        return out[0] if single else out


class RandomHorizontalFlip(_Seeded):
    """Mirror each image left to right with probability p (seeded).

    >>> import numpy as np
    >>> from nn.vision import transforms as T
    >>> T.RandomHorizontalFlip(p=1.0)(np.array([[[[1.0, 2.0, 3.0]]]], np.float32))
    array([[[[3., 2., 1.]]]], dtype=float32)
    """
    def __init__(self, p: float = 0.5, seed: int | None = None) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: p must be a probability in [0, 1], got {p}")
        self.p = p
        self.rng = np.random.default_rng(seed)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x4, single = _as_batch("RandomHorizontalFlip", x)
        flip = self.rng.random(len(x4)) < self.p
        out = x4.copy()
        out[flip] = x4[flip][..., ::-1]
        return out[0] if single else out


class RandomAffine(_Seeded):
    """A small random rotation (degrees) and shift (fraction of the size) per image, by
    nearest-neighbour sampling from an inverse map (zeros outside). The geometry is
    torchvision's `F.affine(img, angle, translate, 1, 0, NEAREST)`: about the image's centre,
    a positive angle turning the picture clockwise as shown with row 0 on top (`F.affine`'s
    convention; `F.rotate` turns the other way), a positive shift moving it right and down;
    the shift is drawn in fractions of a pixel here, in whole pixels there.

    >>> import numpy as np
    >>> from nn.vision import transforms as T
    >>> x = np.zeros((2, 1, 8, 8), np.float32); x[:, :, 3:5, 3:5] = 1
    >>> y = T.RandomAffine(degrees=10, translate=0.1, seed=0)(x)
    >>> y.shape, float(y.max())
    ((2, 1, 8, 8), 1.0)
    """

    def __init__(self, degrees: float = 10.0, translate: float = 0.1,
                 seed: int | None = None) -> None:
        if not degrees >= 0:
            raise ValueError(f"RandomAffine: degrees must be >= 0 (angles are drawn from "
                             f"[-degrees, degrees]), got {degrees}")
        if not 0 <= translate <= 1:
            raise ValueError(f"RandomAffine: translate must be a fraction of the size in "
                             f"[0, 1], got {translate}")
        self.degrees, self.translate = degrees, translate
        self.rng = np.random.default_rng(seed)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x4, single = _as_batch("RandomAffine", x)
        out = self._warp(x4)
        return out[0] if single else out

    def _warp(self, x: np.ndarray) -> np.ndarray:
        n, c, h, w = x.shape
        theta = np.deg2rad(self.rng.uniform(-self.degrees, self.degrees, n))
        ty = self.rng.uniform(-self.translate, self.translate, n) * h
        tx = self.rng.uniform(-self.translate, self.translate, n) * w
        yy, xx = np.meshgrid(np.arange(h) - (h - 1) / 2, np.arange(w) - (w - 1) / 2,
                             indexing="ij")
        cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
        src_y = cos * (yy - ty[:, None, None]) - sin * (xx - tx[:, None, None]) + (h - 1) / 2
        src_x = sin * (yy - ty[:, None, None]) + cos * (xx - tx[:, None, None]) + (w - 1) / 2
        iy, ix = np.rint(src_y).astype(int), np.rint(src_x).astype(int)
        inside = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
        iy, ix = np.clip(iy, 0, h - 1), np.clip(ix, 0, w - 1)
        out = x[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
                iy[:, None], ix[:, None]]
        return out * inside[:, None].astype(x.dtype)


class Resize:
    """Resize images to `size` (height, width) by bilinear interpolation, antialiased when
    shrinking: torchvision's `Resize(size)` default (PIL's filter: a triangle as wide as the
    scale, so that every input pixel counts; plain bilinear reads 2 x 2 pixels per output and
    loses strokes thinner than the scale).

    >>> import numpy as np
    >>> from nn.vision import transforms as T
    >>> x = np.zeros((1, 1, 4, 4), np.float32); x[..., 1] = 1  # a 1-pixel vertical line
    >>> T.Resize((2, 2))(x)[0, 0].round(3)
    array([[0.429, 0.143],
           [0.429, 0.143]], dtype=float32)
    """

    def __init__(self, size: int | Sequence[int]) -> None:
        pair = ((size, size) if isinstance(size, int | np.integer) else
                tuple(size) if isinstance(size, Sequence) else (size,))
        if len(pair) != 2 or not all(isinstance(v, int | np.integer) and v > 0 for v in pair):
            raise ValueError(f"Resize: size must be a positive int or (height, width), got "
                             f"{size!r}")
        self.size = (int(pair[0]), int(pair[1]))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x4, single = _as_batch("Resize", x)
        if not np.issubdtype(x4.dtype, np.floating):
            raise TypeError(f"Resize: expects float images, got {x4.dtype}")
        rows = _resize_weights(x4.shape[2], self.size[0]).astype(x4.dtype)
        cols = _resize_weights(x4.shape[3], self.size[1]).astype(x4.dtype)
        out = np.einsum("oh,nchw,pw->ncop", rows, x4, cols)
        return out[0] if single else out


def _resize_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights of antialiased bilinear resampling along one axis (PIL's and
    torchvision's): output i centred at (i + 0.5) * scale reads a triangle max(scale, 1) wide."""
    scale = n_in / n_out
    width = max(scale, 1.0)
    w = np.zeros((n_out, n_in))
    for i in range(n_out):
        centre = (i + 0.5) * scale
        lo, hi = max(int(centre - width + 0.5), 0), min(int(centre + width + 0.5), n_in)
        k = np.clip(1 - np.abs((np.arange(lo, hi) - centre + 0.5) / width), 0, None)
        w[i, lo:hi] = k / k.sum()
    return w
