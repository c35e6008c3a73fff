"""The pictures a run writes: learning curves, the confusion matrix, the model's graph
(matplotlib with the Agg backend, imported only here and only when drawing).

>>> import tempfile
>>> from pathlib import Path
>>> from nn.vision import plots
>>> path = Path(tempfile.mkdtemp()) / "curves.png"
>>> plots.curves({"train_loss": [1.0, 0.5], "train_accuracy": [0.5, 0.8],
...               "val_accuracy": [0.4, 0.7]}, path)
>>> path.stat().st_size > 0
True
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np

import autodiff as ad
import nn
import nn.functional as F
from nn.vision import datasets


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def curves(history: dict[str, list[float]], path: Path) -> None:
    """Training loss, and training and validation accuracy, per epoch (empty axes before the
    first epoch ends).

    >>> import tempfile
    >>> from pathlib import Path
    >>> from nn.vision import plots
    >>> plots.curves({"train_loss": [], "train_accuracy": [], "val_accuracy": []},
    ...              Path(tempfile.mkdtemp()) / "curves.png")
    """
    plt = _pyplot()
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.5))
    a.plot(epochs, history["train_loss"], marker="o")
    a.set(xlabel="epoch", ylabel="training loss", title="loss")
    b.plot(epochs, history["train_accuracy"], marker="o", label="train")
    b.plot(epochs, history["val_accuracy"], marker="o", label="validation")
    b.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def confusion(cm: np.ndarray, classes: list[str], path: Path) -> None:
    """The confusion matrix (rows: true class, columns: predicted), counts written in.

    >>> import tempfile
    >>> import numpy as np
    >>> from pathlib import Path
    >>> from nn.vision import plots
    >>> plots.confusion(np.eye(2, dtype=int), ["a", "b"], Path(tempfile.mkdtemp()) / "c.png")
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.imshow(cm, cmap="Blues")
    ax.set(xticks=range(len(classes)), yticks=range(len(classes)), xlabel="predicted",
           ylabel="true", title="confusion matrix (test)")
    ax.set_xticklabels(classes, rotation=90 if max(map(len, classes)) > 2 else 0)
    ax.set_yticklabels(classes)
    for i, j in itertools.product(range(len(classes)), repeat=2):
        if cm[i, j]:
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def graph(model: nn.Module, data: datasets.Split, out: Path) -> Path:
    """The model's graph on two test images, layers collapsed: graph.svg, or graph.dot
    without Graphviz.

    >>> import tempfile
    >>> from pathlib import Path
    >>> from nn.vision import datasets, models, plots
    >>> d = datasets.digits()
    >>> plots.graph(models.MLP(in_features=64), d, Path(tempfile.mkdtemp())).suffix in (
    ...     ".svg", ".dot")
    True
    """
    from autodiff import viz

    model.eval()
    with viz.trace(model):
        logits = model(ad.tensor(data.x_test[:2]))
    loss = F.cross_entropy(logits, data.y_test[:2])
    path = out / ("graph.svg" if viz.dot_available() else "graph.dot")
    return Path(viz.render(loss, path=str(path), model=model, depth=1))
