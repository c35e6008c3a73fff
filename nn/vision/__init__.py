"""nn.vision: datasets, transforms, models, and the training command
(`python -m nn.vision train ...`)."""

from nn.vision import datasets, models, transforms

__all__ = ["datasets", "models", "transforms"]
