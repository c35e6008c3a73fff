"""nn.utils.parametrize (register_parametrization, remove_parametrizations, is_parametrized)
and nn.utils.parametrizations (weight_norm, spectral_norm): closed forms, gradients, the
modules' state dicts, errors; and the same numbers and keys as PyTorch's."""

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.testing import gradcheck, gradgradcheck
from nn.utils import parametrize
from nn.utils.parametrizations import spectral_norm, weight_norm


class Double(nn.Module):
    def forward(self, x):
        return x * 2.0

    def right_inverse(self, x):
        return x / 2.0


def linear(dtype=np.float64, n_in=3, n_out=4):
    ad.manual_seed(0)
    return nn.Linear(n_in, n_out).to(dtype)


# -- register_parametrization -------------------------------------------------------------

def test_a_parametrization_computes_the_tensor_on_each_access():
    m = linear()
    w0 = m.weight.data.copy()
    weight = m.weight
    parametrize.register_parametrization(m, "weight", Double())
    assert type(m).__name__ == "ParametrizedLinear" and isinstance(m, nn.Linear)
    assert m.parametrizations.weight.original is weight  # the same object: an optimizer
    assert np.array_equal(weight.data, w0 / 2)  # holding it keeps working
    assert np.array_equal(m.weight.data, w0)
    assert [k for k, _ in m.named_parameters()] == ["bias", "parametrizations.weight.original"]
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    x = ad.tensor(np.ones((2, 3)))
    m(x).sum().backward()
    assert np.array_equal(weight.grad.numpy(), 2 * np.full((4, 3), 2.0))  # d(2w)/dw * dy/dW
    with ad.no_grad():
        m.weight = ad.tensor(np.ones((4, 3)))  # assigning calls right_inverse
    assert np.array_equal(weight.data, np.full((4, 3), 0.5))
    assert parametrize.is_parametrized(m) and parametrize.is_parametrized(m, "weight")
    assert not parametrize.is_parametrized(m, "bias")
    assert not parametrize.is_parametrized(linear())


def test_assigning_a_parameter_goes_through_right_inverse_and_copies_keep_it():
    import copy

    m = parametrize.register_parametrization(linear(), "weight", Double())
    m.weight = nn.Parameter(np.ones((4, 3)))
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert np.array_equal(m.parametrizations.weight.original.data, np.full((4, 3), 0.5))
    c = copy.deepcopy(m)
    assert type(c).__name__ == "ParametrizedLinear" and (c.weight.data == 1.0).all()
    assert c.parametrizations.weight.original is not m.parametrizations.weight.original
    assert repr(m).splitlines()[3:6] == ["    (weight): ParametrizationList(",
                                         "      (0): Double()", "    )"]
    m.bias = nn.Parameter(np.zeros(4))  # other names: as any module
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]


def test_parametrizations_chain_and_are_removed():
    m = linear()
    w0 = m.weight.data.copy()
    parametrize.register_parametrization(m, "weight", Double())
    parametrize.register_parametrization(m, "weight", nn.Tanh())
    assert np.allclose(m.weight.data, np.tanh(w0))
    assert len(m.parametrizations.weight) == 2
    parametrize.remove_parametrizations(m, "weight")  # leave_parametrized: tanh(w0) stays
    assert type(m) is nn.Linear and not hasattr(m, "parametrizations")
    assert list(m.state_dict()) == ["bias", "weight"]
    assert isinstance(m.weight, nn.Parameter) and np.allclose(m.weight.data, np.tanh(w0))
    m2 = linear()
    parametrize.register_parametrization(m2, "weight", Double())
    parametrize.remove_parametrizations(m2, "weight", leave_parametrized=False)
    assert np.array_equal(m2.weight.data, w0 / 2)


def test_a_buffer_can_be_parametrized():
    m = nn.BatchNorm1d(3)
    parametrize.register_parametrization(m, "running_var", Double())
    assert "parametrizations.running_var.original" in m.state_dict()
    assert np.array_equal(m.running_var.data, np.ones(3))


def test_register_parametrization_errors():
    m = linear()
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a "
                                         "parametrized element with name 'foo'"):
        parametrize.register_parametrization(m, "foo", Double())

    class Shrink(nn.Module):
        def forward(self, x):
            return x[:1]

    with pytest.raises(ValueError, match=r"may not change the shape.*\n.*\(4, 3\)\n.*\(1, 3\)"):
        parametrize.register_parametrization(m, "weight", Shrink())
    assert not parametrize.is_parametrized(m) and type(m) is nn.Linear  # nothing changed
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(m, "weight")
    parametrize.register_parametrization(m, "weight", nn.Tanh())
    with pytest.raises(RuntimeError, match="Tanh does not implement right_inverse"):
        m.weight = ad.zeros((4, 3))
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(m, "weight", Shrink())


# -- weight_norm ------------------------------------------------------------------------------

def norm_except(v, dim):
    if dim is None or dim == -1:
        return np.sqrt((v ** 2).sum())
    axes = tuple(a for a in range(v.ndim) if a != dim % v.ndim)
    return np.sqrt((v ** 2).sum(axis=axes, keepdims=True))


@pytest.mark.parametrize("dim", [0, 1, None, -1, -2])
def test_weight_norm_is_g_v_over_the_norm_of_v(dim):
    ad.manual_seed(1)
    conv = nn.Conv2d(2, 3, 3).to(np.float64)
    w = conv.weight.data.copy()
    weight_norm(conv, dim=dim)
    g = conv.parametrizations.weight.original0
    v = conv.parametrizations.weight.original1
    assert g.shape == np.shape(norm_except(w, dim)) and np.allclose(g.data, norm_except(w, dim))
    assert np.allclose(conv.weight.data, w)  # the module computes what it did
    rng = np.random.default_rng(2)
    with ad.no_grad():
        g.data[...] = rng.normal(size=g.shape)
        v.data[...] = rng.normal(size=v.shape)
    expected = v.data * (g.data / norm_except(v.data, dim))
    assert np.allclose(conv.weight.data, expected, rtol=1e-13, atol=0)
    assert list(conv.state_dict()) == ["bias", "parametrizations.weight.original0",
                                       "parametrizations.weight.original1"]


def test_weight_norm_gradients():
    ad.manual_seed(3)
    x = ad.tensor(np.random.default_rng(4).normal(size=(2, 3)))

    def f(g, v):  # w = g v / ||v||, the norm over each row, written out
        w = v * (g / ((v * v).sum(axis=1, keepdims=True)) ** 0.5)
        return (x @ w.T + m.bias).tanh().sum()

    m = weight_norm(linear())
    g = m.parametrizations.weight.original0
    v = m.parametrizations.weight.original1
    m(x).tanh().sum().backward()
    gg, gv = ad.gradients(f(g, v), [g, v])
    assert np.allclose(g.grad.numpy(), gg.numpy(), rtol=1e-13, atol=0)
    assert np.allclose(v.grad.numpy(), gv.numpy(), rtol=1e-13, atol=0)
    assert gradcheck(lambda a, b: m.parametrizations.weight[0](a, b), g.detach(), v.detach())
    assert gradgradcheck(lambda a, b: m.parametrizations.weight[0](a, b), g.detach(),
                         v.detach())


def test_weight_norm_remove_and_errors():
    m = weight_norm(linear())
    w = m.weight.data.copy()
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    parametrize.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and np.allclose(m.weight.data, w)
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    with pytest.raises(IndexError, match=r"weight_norm: Dimension out of range \(expected to "
                                         r"be in range of \[-2, 1\] but got 5\)"):
        weight_norm(linear(), dim=5)
    with pytest.raises(ValueError, match="parametrized element with name 'foo'"):
        weight_norm(linear(), name="foo")


# -- spectral_norm ----------------------------------------------------------------------------

def test_spectral_norm_divides_by_the_largest_singular_value():
    ad.manual_seed(5)
    conv = nn.Conv2d(3, 4, 3).to(np.float64)
    w = conv.weight.data.copy()
    spectral_norm(conv, n_power_iterations=50)  # 15 + 1 + 50 iterations: converged
    sigma = np.linalg.svd(w.reshape(4, -1), compute_uv=False)[0]
    assert np.allclose(conv.weight.data, w / sigma, rtol=1e-10)
    u = conv.parametrizations.weight[0]._u.data
    v = conv.parametrizations.weight[0]._v.data
    assert np.isclose(u @ w.reshape(4, -1) @ v, sigma)
    assert list(conv.state_dict()) == ["bias", "parametrizations.weight.original",
                                       "parametrizations.weight.0._u",
                                       "parametrizations.weight.0._v"]


def test_spectral_norm_dim_and_one_d_weights():
    ad.manual_seed(6)
    m = spectral_norm(nn.Linear(3, 5).to(np.float64), dim=1, n_power_iterations=100)
    w = m.parametrizations.weight.original.data
    assert np.allclose(m.weight.data, w / np.linalg.svd(w, compute_uv=False)[0])
    assert m.parametrizations.weight[0]._u.shape == (3,)  # W^T's rows
    ct = spectral_norm(nn.ConvTranspose2d(2, 3, 2))  # dim 1 by default, as PyTorch's
    assert ct.parametrizations.weight[0]._u.shape == (3,)
    b = spectral_norm(linear(), name="bias")
    assert np.allclose(b.bias.data, b.parametrizations.bias.original.data /
                       np.linalg.norm(b.parametrizations.bias.original.data))
    assert "parametrizations.bias.0._u" not in b.state_dict()


def test_spectral_norm_iterates_in_training_mode_only():
    m = spectral_norm(linear())
    sn = m.parametrizations.weight[0]
    u = sn._u.data.copy()
    m.eval()
    _ = m.weight  # an access: a power step in training mode only
    _ = m.weight  # an access: a power step in training mode only
    assert np.array_equal(sn._u.data, u)
    m.train()
    w = m.parametrizations.weight.original.data
    v_before = sn._v.data.copy()
    _ = m.weight  # an access: a power step in training mode only
    # one step by hand: u <- Wv/||Wv||, v <- W^T u/||W^T u||
    expected = w @ v_before / np.linalg.norm(w @ v_before)
    assert np.allclose(sn._u.data, expected, rtol=1e-14)
    assert np.allclose(sn._v.data, w.T @ expected / np.linalg.norm(w.T @ expected), rtol=1e-14)


def test_spectral_norm_gradient_with_u_and_v_fixed():
    m = spectral_norm(linear()).eval()
    sn = m.parametrizations.weight[0]
    assert gradcheck(sn, m.parametrizations.weight.original.detach())
    assert gradgradcheck(sn, m.parametrizations.weight.original.detach())


def test_spectral_norm_errors():
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range "
                                         r"of \[-2, 1\] but got 2\)"):
        spectral_norm(linear(), dim=2)
    with pytest.raises(ValueError, match="Expected n_power_iterations to be positive, but got "
                                         "n_power_iterations=0"):
        spectral_norm(linear(), n_power_iterations=0)
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'foo'"):
        spectral_norm(linear(), name="foo")


# -- against PyTorch --------------------------------------------------------------------------

def torch_twin(torch, ours, theirs):
    """Give PyTorch's module our module's state (keys must match)."""
    state = {k: torch.tensor(v) for k, v in ours.state_dict().items()}
    assert list(state) == list(theirs.state_dict())
    theirs.load_state_dict(state)


@pytest.mark.parametrize("kind,dim", [("linear", 0), ("linear", 1), ("linear", None),
                                      ("conv", 0), ("conv", 1), ("conv", -2), ("conv", None)])
def test_weight_norm_against_pytorch(kind, dim):
    torch = pytest.importorskip("torch", reason="the PyTorch comparison needs PyTorch")
    from torch.nn.utils.parametrizations import weight_norm as t_weight_norm

    ad.manual_seed(7)
    if kind == "linear":
        ours, theirs = nn.Linear(3, 4), torch.nn.Linear(3, 4)
        x = np.random.default_rng(8).normal(size=(5, 3))
    else:
        ours, theirs = nn.Conv2d(2, 3, 3), torch.nn.Conv2d(2, 3, 3)
        x = np.random.default_rng(8).normal(size=(2, 2, 5, 5))
    ours, theirs = weight_norm(ours.to(np.float64), dim=dim), t_weight_norm(theirs.double(),
                                                                             dim=dim)
    torch_twin(torch, ours, theirs)
    with ad.no_grad():  # g away from ||v||, so that the test sees g and v separately
        ours.parametrizations.weight.original0.data *= 1.7
    torch_twin(torch, ours, theirs)
    y = ours(ad.tensor(x))
    yt = theirs(torch.tensor(x))
    assert np.allclose(y.data, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    (y ** 2).sum().backward()
    (yt ** 2).sum().backward()
    for k, p in ours.named_parameters():
        pt = theirs.get_parameter(k)
        assert np.allclose(p.grad.numpy(), pt.grad.numpy(), rtol=1e-11, atol=1e-13), k


@pytest.mark.parametrize("kind,dim,n_iter", [("linear", None, 1), ("linear", 1, 3),
                                             ("conv", None, 2), ("convT", None, 1)])
def test_spectral_norm_against_pytorch(kind, dim, n_iter):
    torch = pytest.importorskip("torch", reason="the PyTorch comparison needs PyTorch")
    from torch.nn.utils.parametrizations import spectral_norm as t_spectral_norm

    ad.manual_seed(9)
    torch.manual_seed(9)
    rng = np.random.default_rng(10)
    if kind == "linear":
        ours, theirs = nn.Linear(6, 4), torch.nn.Linear(6, 4)
        x = rng.normal(size=(5, 6))
    elif kind == "conv":
        ours, theirs = nn.Conv2d(2, 3, 3), torch.nn.Conv2d(2, 3, 3)
        x = rng.normal(size=(2, 2, 5, 5))
    else:
        ours, theirs = nn.ConvTranspose2d(2, 3, 2), torch.nn.ConvTranspose2d(2, 3, 2)
        x = rng.normal(size=(2, 2, 4, 4))
    kw = {"dim": dim, "n_power_iterations": n_iter}
    ours = spectral_norm(ours.to(np.float64), **kw)
    theirs = t_spectral_norm(theirs.double(), **kw)
    # PyTorch's state (its u, v drawn by its generator), loaded into ours: the same keys
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    opt = nn.optim.SGD(ours.parameters(), lr=0.1)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(4):  # training steps: each forward advances u and v
        y, yt = ours(ad.tensor(x)), theirs(torch.tensor(x))
        assert np.allclose(y.data, yt.detach().numpy(), rtol=1e-11, atol=1e-13)
        opt.zero_grad()
        opt_t.zero_grad()
        (y ** 2).sum().backward()
        (yt ** 2).sum().backward()
        for k, p in ours.named_parameters():
            pt = theirs.get_parameter(k)
            assert np.allclose(p.grad.numpy(), pt.grad.numpy(), rtol=1e-10, atol=1e-12), k
        opt.step()
        opt_t.step()
    for k, v in ours.state_dict().items():
        assert np.allclose(v, theirs.state_dict()[k].numpy(), rtol=1e-10, atol=1e-12), k
    ours.eval()
    theirs.eval()
    assert np.allclose(ours(ad.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                       rtol=1e-11, atol=1e-13)
