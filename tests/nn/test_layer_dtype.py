"""Every layer with parameters takes PyTorch's `dtype=`: its parameters and buffers are made
in that dtype (the default dtype, float32, otherwise), and a float64 layer computes in
float64 from float64 input."""

import numpy as np
import pytest

import autodiff as ad
import nn

LAYERS = {
    "Conv1d": (lambda dt: nn.Conv1d(2, 3, 3, dtype=dt), (2, 2, 7)),
    "Conv2d": (lambda dt: nn.Conv2d(2, 3, 3, padding=1, dtype=dt), (2, 2, 5, 5)),
    "ConvTranspose2d": (lambda dt: nn.ConvTranspose2d(2, 3, 3, stride=2, dtype=dt),
                        (2, 2, 4, 4)),
    "BatchNorm1d": (lambda dt: nn.BatchNorm1d(3, dtype=dt), (4, 3)),
    "BatchNorm2d": (lambda dt: nn.BatchNorm2d(2, dtype=dt), (2, 2, 3, 3)),
    "InstanceNorm2d": (lambda dt: nn.InstanceNorm2d(2, affine=True, track_running_stats=True,
                                                    dtype=dt), (2, 2, 3, 3)),
    "GroupNorm": (lambda dt: nn.GroupNorm(1, 2, dtype=dt), (2, 2, 3, 3)),
    "LayerNorm": (lambda dt: nn.LayerNorm(3, dtype=dt), (2, 3)),
    "Linear": (lambda dt: nn.Linear(3, 2, dtype=dt), (2, 3)),
    "PReLU": (lambda dt: nn.PReLU(2, dtype=dt), (4, 2)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_dtype_makes_parameters_and_buffers_and_computes_in_it(name):
    make, shape = LAYERS[name]
    assert {str(v.dtype) for v in make(None).state_dict().values()} == {"float32"}
    layer = make(np.float64)
    assert {str(v.dtype) for v in layer.state_dict().values()} == {"float64"}
    y = layer(ad.tensor(np.random.default_rng(0).standard_normal(shape)))
    assert y.dtype == np.float64
    y.sum().backward()
    assert {str(p.grad.dtype) for p in layer.parameters()} == {"float64"}


def test_embedding_dtype():
    emb = nn.Embedding(5, 3, padding_idx=0, dtype=np.float64)
    assert emb.weight.dtype == np.float64 and (emb.weight.data[0] == 0).all()
    assert emb(np.array([1, 2])).dtype == np.float64
