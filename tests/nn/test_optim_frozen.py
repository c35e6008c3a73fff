"""Fine-tuning as in PyTorch: `opt = Adam(model.parameters())` with some parameters frozen
(`requires_grad_(False)`) is accepted; a frozen parameter is not updated (not even by a stale
.grad left from before it was frozen) until it requires grad again. A plain tensor that does
not require grad is still refused: it can only be a mistake."""

import numpy as np
import pytest

import autodiff as ad
import nn

OPTIMIZERS = [
    (nn.optim.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    (nn.optim.Adam, {"lr": 0.01, "weight_decay": 0.01}),
    (nn.optim.AdamW, {"lr": 0.01}),
    (nn.optim.RMSprop, {"lr": 0.01}),
    (nn.optim.Adagrad, {"lr": 0.1}),
]


def _model(seed=0):
    ad.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def _loss(model):
    x = ad.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3))
    return (model(x) ** 2).sum()


@pytest.mark.parametrize("make, options", OPTIMIZERS, ids=lambda o: getattr(o, "__name__", ""))
def test_a_frozen_layer_stays_and_the_others_train(make, options):
    model = _model()
    model[0].requires_grad_(False)
    frozen = [p.data.copy() for p in model[0].parameters()]
    trained = [p.data.copy() for p in model[2].parameters()]
    opt = make(model.parameters(), **options)
    for _ in range(3):
        opt.zero_grad()
        _loss(model).backward()
        opt.step()
    for p, before in zip(model[0].parameters(), frozen):
        np.testing.assert_array_equal(p.data, before)
        assert p.grad is None and id(p) not in opt.state
    assert all(not np.array_equal(p.data, b) for p, b in zip(model[2].parameters(), trained))


def test_a_stale_grad_does_not_move_a_frozen_parameter_and_unfreezing_resumes():
    model = _model()
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    _loss(model).backward()  # every parameter gets a .grad
    w = model[0].weight
    w.requires_grad_(False)  # frozen with its .grad still set
    before = w.data.copy()
    opt.step()
    np.testing.assert_array_equal(w.data, before)
    w.requires_grad_(True)  # unfrozen: the same optimizer updates it again
    opt.zero_grad()
    _loss(model).backward()
    opt.step()
    assert not np.array_equal(w.data, before)


def test_a_plain_tensor_that_does_not_require_grad_is_still_refused():
    with pytest.raises(ValueError, match=r"a tensor of shape \(2,\) that does not require grad "
                       r"would never be updated \(a frozen nn.Parameter is accepted"):
        nn.optim.SGD([ad.ones(2)], lr=0.1)


def test_freezing_matches_pytorch():
    torch = pytest.importorskip("torch", reason="the comparison needs PyTorch (bench extra)")
    model = _model()
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    tmodel.load_state_dict({k: torch.from_numpy(v.copy())
                            for k, v in model.state_dict().items()})
    model[0].requires_grad_(False)
    tmodel[0].requires_grad_(False)
    opt = nn.optim.Adam(model.parameters(), lr=0.01, weight_decay=0.01)
    topt = torch.optim.Adam(tmodel.parameters(), lr=0.01, weight_decay=0.01)
    x = np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)
    for _ in range(4):
        opt.zero_grad()
        _loss(model).backward()
        opt.step()
        topt.zero_grad()
        (tmodel(torch.from_numpy(x)) ** 2).sum().backward()
        topt.step()
    for (k, v), tv in zip(model.state_dict().items(), tmodel.state_dict().values()):
        np.testing.assert_allclose(v, tv.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
