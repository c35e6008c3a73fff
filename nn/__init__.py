"""nn: neural networks built only from autodiff's public API."""
