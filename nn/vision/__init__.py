"""nn.vision: datasets, transforms, models, and the training command
(`python -m nn.vision train ...`: nn.vision.cli reads the command line, nn.vision.train runs the
loop, nn.vision.runs keeps runs from being lost)."""

from nn.vision import datasets, models, transforms

__all__ = ["datasets", "models", "transforms"]
