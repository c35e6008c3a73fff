"""Adam's decoupled_weight_decay keyword (PyTorch's): AdamW's rule inside Adam, AdamW's value
fixed at True, and checkpoints saved before the keyword existed still loading."""

import numpy as np
import pytest

import autodiff as ad
import nn


def _run(make, steps=5):
    w = ad.tensor([1.0, -2.0, 0.5], dtype="float64", requires_grad=True)
    opt = make([w])
    for _ in range(steps):
        opt.zero_grad()
        (w * w * w).sum().backward()
        opt.step()
    return w.data.copy(), opt


def test_decoupled_adam_takes_adamw_steps():
    a, _ = _run(lambda p: nn.optim.Adam(p, lr=0.1, weight_decay=0.2,
                                        decoupled_weight_decay=True))
    b, _ = _run(lambda p: nn.optim.AdamW(p, lr=0.1, weight_decay=0.2))
    c, _ = _run(lambda p: nn.optim.Adam(p, lr=0.1, weight_decay=0.2))
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3  # the keyword changes the rule


def test_one_step_by_hand():
    # p = 1, g = 3p^2 = 3, lr 0.1, wd 0.5: p <- p (1 - 0.05) - 0.1 * m_hat / (sqrt(v_hat) + eps)
    # with m_hat = g, v_hat = g^2, so p = 0.95 - 0.1 * 3 / (3 + 1e-8)
    w = ad.tensor([1.0], dtype="float64", requires_grad=True)
    opt = nn.optim.Adam([w], lr=0.1, weight_decay=0.5, decoupled_weight_decay=True)
    (w * w * w).sum().backward()
    opt.step()
    assert w.item() == pytest.approx(0.95 - 0.1 * 3 / (3 + 1e-8), abs=1e-15)


def test_matches_pytorch():
    torch = pytest.importorskip("torch", reason="torch.optim.Adam is the reference")
    w = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w], lr=0.1, weight_decay=0.2, decoupled_weight_decay=True,
                           amsgrad=True)
    for _ in range(5):
        opt.zero_grad()
        (w ** 3).sum().backward()
        opt.step()
    ours, mine = _run(lambda p: nn.optim.Adam(p, lr=0.1, weight_decay=0.2, amsgrad=True,
                                              decoupled_weight_decay=True))
    np.testing.assert_allclose(ours, w.detach().numpy(), rtol=1e-15, atol=0)
    assert mine.param_groups[0]["decoupled_weight_decay"] is True


def test_adamw_refuses_coupled_decay():
    w = ad.ones(2, requires_grad=True)
    opt = nn.optim.AdamW([w])
    assert opt.param_groups[0]["decoupled_weight_decay"] is True
    with pytest.raises(ValueError, match="AdamW: decoupled_weight_decay is always True"):
        opt.add_param_group({"params": [ad.ones(1, requires_grad=True)],
                             "decoupled_weight_decay": False})
    with pytest.raises(ValueError, match="decoupled_weight_decay"):
        nn.optim.Adam([w], decoupled_weight_decay="yes")


@pytest.mark.parametrize("cls, expected", [(nn.optim.Adam, False), (nn.optim.AdamW, True)])
def test_a_state_saved_before_the_keyword_loads(cls, expected):
    _, opt = _run(lambda p: cls(p, lr=0.1, weight_decay=0.2))
    old = opt.state_dict()
    for g in old["param_groups"]:
        del g["decoupled_weight_decay"]
    w = ad.tensor([1.0, -2.0, 0.5], dtype="float64", requires_grad=True)
    fresh = cls([w], lr=0.1, weight_decay=0.2, **({} if cls is nn.optim.AdamW else
                                                   {"decoupled_weight_decay": not expected}))
    fresh.load_state_dict(old)
    assert fresh.param_groups[0]["decoupled_weight_decay"] is expected
