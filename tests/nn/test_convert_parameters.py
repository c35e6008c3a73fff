"""nn.utils.parameters_to_vector / vector_to_parameters: PyTorch's semantics (order, views of
the vector, the parameters' identity kept, gradients through the vector) and clear errors."""

import numpy as np
import pytest

import autodiff as ad
import nn
from nn.utils import parameters_to_vector, vector_to_parameters


def model():
    ad.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def test_the_vector_is_the_parameters_flattened_in_order():
    m = model()
    vec = parameters_to_vector(m.parameters())
    expected = np.concatenate([p.data.ravel() for p in m.parameters()])
    assert vec.shape == (3 * 4 + 4 + 4 * 2 + 2,) and np.array_equal(vec.data, expected)


def test_gradients_flow_from_the_vector_to_each_parameter():
    m = model()
    vec = parameters_to_vector(m.parameters())
    c = np.arange(vec.shape[0], dtype=np.float32)
    (vec * ad.tensor(c)).sum().backward()
    start = 0
    for p in m.parameters():
        n = p.data.size
        assert np.array_equal(p.grad.numpy(), c[start:start + n].reshape(p.shape))
        start += n


def test_vector_to_parameters_keeps_the_objects_and_views_the_vector():
    m = model()
    params = list(m.parameters())
    opt = nn.optim.SGD(params, lr=0.1)
    vec = ad.tensor(np.arange(26, dtype=np.float64))
    vector_to_parameters(vec, m.parameters())
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    assert m[0].weight.dtype == np.float64  # the vector's dtype, as PyTorch's .data =
    assert m[0].weight.tolist()[1] == [3.0, 4.0, 5.0] and m[2].bias.tolist() == [24.0, 25.0]
    with ad.no_grad():
        vec[0] = -1.0  # the parameters are views of the vector, as in PyTorch
    assert m[0].weight.data[0, 0] == -1.0
    assert np.array_equal(parameters_to_vector(m.parameters()).data, vec.data)
    m(ad.tensor(np.ones((1, 3)))).sum().backward()  # and training goes on with them
    opt.step()
    assert m[2].bias.data[0] != 24.0


def test_errors_name_what_was_wrong():
    m = model()
    with pytest.raises(ValueError, match="non-empty iterable"):
        parameters_to_vector([])
    with pytest.raises(TypeError, match=r"got a Tensor of shape \(4,\)"):
        parameters_to_vector(m[0].bias)
    with pytest.raises(TypeError, match="parameter 1 is a ndarray"):
        parameters_to_vector([m[0].bias, np.ones(2)])
    with pytest.raises(TypeError, match=r"expected a Tensor, but got: numpy\.ndarray"):
        vector_to_parameters(np.zeros(26), m.parameters())
    for bad in (ad.zeros(25), ad.zeros(27), ad.zeros((2, 13))):
        with pytest.raises(ValueError, match=r"1-d tensor of 26 elements \(the 4 parameters'"):
            vector_to_parameters(bad, m.parameters())
    assert m[2].bias.dtype == np.float32  # nothing was written


def test_against_pytorch():
    torch = pytest.importorskip("torch", reason="the PyTorch comparison needs PyTorch")
    from torch.nn.utils import parameters_to_vector as p2v
    from torch.nn.utils import vector_to_parameters as v2p

    m = model()
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    t.load_state_dict({k: torch.tensor(v) for k, v in m.state_dict().items()})
    assert np.array_equal(parameters_to_vector(m.parameters()).data,
                          p2v(t.parameters()).detach().numpy())
    vec = np.random.default_rng(1).normal(size=26)
    vector_to_parameters(ad.tensor(vec), m.parameters())
    v2p(torch.tensor(vec), t.parameters())
    for (k, ours), theirs in zip(m.state_dict().items(), t.state_dict().values()):
        assert ours.dtype == theirs.numpy().dtype and np.array_equal(ours, theirs.numpy()), k
