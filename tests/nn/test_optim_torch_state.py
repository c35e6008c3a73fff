"""PyTorch's optimizer state-dict layout: `load_state_dict(sd, layout="torch")` reads
`torch_opt.state_dict()` with its tensors converted to NumPy arrays, and
`state_dict(layout="torch")` writes it. A run trained k steps in PyTorch, converted and loaded
here, continues to PyTorch's numbers, and the other way round; the conversions are plain dicts
of arrays and numbers (no pickle), and a state that does not fit is refused naming why."""

import copy
import random

import numpy as np
import pytest

import autodiff as ad
import nn

from .test_optim_against_pytorch import NAMES, draw

SHAPES = [(), (0,), (3,), (2, 3)]


def setup(name, seed):
    """Groups (shapes, float64 initial values) and their options, and a gradient stream."""
    r = random.Random(seed)
    rng = np.random.default_rng(seed)
    groups = [[rng.standard_normal(r.choice(SHAPES)) for _ in range(r.randint(1, 2))]
              for _ in range(r.randint(1, 3))]
    options = [draw(name, r) for _ in groups]
    defaults = draw(name, r)
    grads = [[[None if rng.random() < 0.15 else rng.standard_normal(v.shape) for v in g]
              for g in groups] for _ in range(16)]
    return groups, options, defaults, grads


def make(lib, optim, name, groups, options, defaults):
    params = [[lib.tensor(v.copy(), requires_grad=True) for v in g] for g in groups]
    opt = getattr(optim, name)([{"params": ps, **o} for ps, o in zip(params, options)],
                               **defaults)
    return params, opt


def train(lib, params, opt, grads):
    for step in grads:
        for ps, gs in zip(params, step):
            for p, g in zip(ps, gs):
                p.grad = None if g is None else lib.tensor(g)
        opt.step()


def torch_to_numpy(sd, torch):
    """What a user does to a torch state_dict: every tensor to a NumPy array."""
    out = copy.deepcopy(sd)
    for entries in out["state"].values():
        for k, v in entries.items():
            if torch.is_tensor(v):
                entries[k] = v.detach().numpy().copy()
    return out


def numpy_to_torch(sd, torch):
    out = copy.deepcopy(sd)
    for entries in out["state"].values():
        for k, v in entries.items():
            if isinstance(v, np.ndarray):
                entries[k] = torch.from_numpy(v.copy())
    return out


def same(ours, theirs, rtol=1e-12):
    for og, tg in zip(ours, theirs):
        for o, t in zip(og, tg):
            np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=rtol, atol=rtol)


CASES = [(name, seed) for name in NAMES for seed in range(3)]


@pytest.fixture
def torch64():
    torch = pytest.importorskip("torch", reason="torch.optim's state_dict is the reference")
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # float64 steps, as ours
    yield torch
    torch.set_default_dtype(old)


@pytest.mark.parametrize("name, seed", CASES)
def test_a_pytorch_run_converted_and_loaded_continues_to_pytorchs_numbers(name, seed, torch64):
    torch = torch64
    groups, options, defaults, grads = setup(name, 1000 + seed)
    tparams, topt = make(torch, torch.optim, name, groups, options, defaults)
    train(torch, tparams, topt, grads[:8])
    saved = torch_to_numpy(topt.state_dict(), torch)
    # ours starts from PyTorch's current values with the same groups, other rates: the load
    # sets every option
    now = [[p.detach().numpy().copy() for p in g] for g in tparams]
    oparams, oopt = make(ad, nn.optim, name, now, [{**o, "lr": 0.123} for o in options],
                         defaults)
    oopt.load_state_dict(saved, layout="torch")
    for g, o in zip(oopt.param_groups, options):
        assert {k: g[k] for k in o} == {k: tuple(v) if isinstance(v, list) else v
                                        for k, v in o.items()}
    train(torch, tparams, topt, grads[8:])
    train(ad, oparams, oopt, grads[8:])
    same(oparams, tparams)


@pytest.mark.parametrize("name, seed", CASES[1::2])
def test_our_run_written_in_pytorchs_layout_continues_in_pytorch(name, seed, torch64):
    torch = torch64
    groups, options, defaults, grads = setup(name, 2000 + seed)
    oparams, oopt = make(ad, nn.optim, name, groups, options, defaults)
    train(ad, oparams, oopt, grads[:8])
    now = [[p.data.copy() for p in g] for g in oparams]
    tparams, topt = make(torch, torch.optim, name, now, [{**o, "lr": 0.123} for o in options],
                         defaults)
    topt.load_state_dict(numpy_to_torch(oopt.state_dict(layout="torch"), torch))
    train(torch, tparams, topt, grads[8:])
    train(ad, oparams, oopt, grads[8:])
    same(oparams, tparams)


@pytest.mark.parametrize("name, seed", CASES[::3])
def test_the_two_layouts_round_trip_bit_for_bit(name, seed):
    """ours -> PyTorch's layout -> ours: the continued run is the uninterrupted one, exactly."""
    groups, options, defaults, grads = setup(name, 3000 + seed)
    whole, wopt = make(ad, nn.optim, name, groups, options, defaults)
    train(ad, whole, wopt, grads)
    params, opt = make(ad, nn.optim, name, groups, options, defaults)
    train(ad, params, opt, grads[:8])
    layout = opt.state_dict(layout="torch")
    assert set(layout) == {"state", "param_groups"}
    assert all(isinstance(k, int) for k in layout["state"])
    now = [[p.data.copy() for p in g] for g in params]
    again, opt2 = make(ad, nn.optim, name, now, [{**o, "lr": 0.123} for o in options],
                       defaults)
    opt2.load_state_dict(layout, layout="torch")
    train(ad, again, opt2, grads[8:])
    for wg, ag in zip(whole, again):
        for w, a in zip(wg, ag):
            np.testing.assert_array_equal(a.data, w.data)


def adam_torch_layout(**changes):
    """PyTorch's Adam state_dict for one parameter of shape (2,), as NumPy arrays."""
    sd = {"state": {0: {"step": np.array(3.0, np.float32), "exp_avg": np.array([0.1, -0.2]),
                        "exp_avg_sq": np.array([0.01, 0.04])}},
          "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8,
                            "weight_decay": 0.0, "amsgrad": False, "maximize": False,
                            "foreach": None, "capturable": False, "differentiable": False,
                            "fused": None, "decoupled_weight_decay": False,
                            "params": [0]}]}
    for path, value in changes.items():
        where, key = path.rsplit(".", 1) if "." in path else ("", path)
        target = sd
        for part in filter(None, where.split(".")):
            target = target[int(part) if part.isdigit() else part]
        if value is None:
            del target[key]
        else:
            target[key] = value
    return sd


def test_adams_state_by_hand_loads_and_steps_as_the_formula_says():
    w = ad.tensor([1.0, 2.0], requires_grad=True, dtype="float64")
    opt = nn.optim.Adam([w])
    opt.load_state_dict(adam_torch_layout(), layout="torch")
    assert opt.state[id(w)]["step"] == 3 and isinstance(opt.state[id(w)]["step"], int)
    w.grad = ad.tensor([0.5, 0.5], dtype="float64")
    opt.step()
    m = 0.9 * np.array([0.1, -0.2]) + 0.1 * 0.5
    v = 0.999 * np.array([0.01, 0.04]) + 0.001 * 0.25
    want = np.array([1.0, 2.0]) - 0.01 * (m / (1 - 0.9 ** 4)) / (
        np.sqrt(v / (1 - 0.999 ** 4)) + 1e-8)
    np.testing.assert_allclose(w.data, want, rtol=1e-14)


@pytest.mark.parametrize("changes, match", [
    ({"param_groups.0.momentum": 0.9}, r"param_groups\[0\] has the options \['momentum'\], "
                                        r"which this optimizer does not have"),
    ({"state.0.exp_avg": np.zeros(3)}, r"state 'exp_avg' of parameter 0 has shape \(3,\) in "
                                       r"the state but \(2,\) in the parameter"),
    ({"param_groups.0.params": [0, 1]}, r"groups of \[2\] parameters, this optimizer \[1\]"),
    ({"state.0.step": np.array(2.5)}, r"state 'step' of parameter 0 is 2.5, not a count"),
    ({"state.0.step": "3"}, r"state 'step' of parameter 0 is '3', not a finite number"),
    ({"state.0.exp_avg": "abc"}, r"state 'exp_avg' of parameter 0 is a str, not an array"),
    ({"state.0.max_exp_avg_sq": np.zeros(2)}, r"the saved state holds \['exp_avg', "),
    ({"state.0.exp_avg_sq": np.array([np.nan, 1.0])}, r"holds 1 NaN or inf values"),
    ({"state.7": {}}, r"a state for parameter '7', but this optimizer has 1 parameters"),
    ({"state.x": {}}, r"a parameter index must be an integer >= 0, got 'x'"),
    ({"param_groups.0.lr": -1.0}, r"group 0: Adam: learning rate must be >= 0"),
    ({"param_groups.0.amsgrad": None}, r"group 0 lacks the hyperparameters \['amsgrad'\]"),
    ({"optimizer": "Adam"}, r"expected PyTorch's optimizer state_dict\(\) layout"),
], ids=["unknown-option", "shape", "param-count", "fractional-step", "text-step", "text-array",
        "state-names", "nan", "index-out-of-range", "index-not-a-number", "negative-lr",
        "missing-option", "our-layout-keys"])
def test_a_pytorch_layout_that_does_not_fit_is_refused_and_changes_nothing(changes, match):
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    opt = nn.optim.Adam([w], lr=0.5)
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(adam_torch_layout(**changes), layout="torch")
    assert opt.param_groups[0]["lr"] == 0.5 and opt.state == {}


def test_the_layout_argument_is_checked_and_lbfgs_has_none():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="Adam: layout must be 'ours' or 'torch', got 'pt'"):
        nn.optim.Adam([w]).state_dict(layout="pt")
    lbfgs = nn.optim.LBFGS([w])
    with pytest.raises(ValueError, match="LBFGS: layout='torch' is not supported"):
        lbfgs.state_dict(layout="torch")
    with pytest.raises(ValueError, match="LBFGS: layout='torch' is not supported"):
        lbfgs.load_state_dict(adam_torch_layout(), layout="torch")


def test_pytorchs_kernel_switches_names_and_schedule_keys_are_left_out():
    """foreach/fused/capturable/differentiable change no number; param_names and what
    OneCycleLR writes into the groups (max_lr, ...) live elsewhere here."""
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    opt = nn.optim.Adam([w])
    opt.load_state_dict(adam_torch_layout(**{
        "param_groups.0.param_names": ["w"], "param_groups.0.max_lr": 0.1,
        "param_groups.0.initial_lr": 0.004, "param_groups.0.betas": [0.8, 0.99]}),
        layout="torch")
    group = opt.param_groups[0]
    assert not {"foreach", "fused", "param_names", "max_lr"} & set(group)
    assert group["betas"] == (0.8, 0.99) and group["initial_lr"] == 0.004


def test_pytorchs_layout_given_as_ours_is_refused_with_the_way_to_load_it():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    opt = nn.optim.Adam([w], lr=0.5)
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: the groups hold PyTorch's keys "
                                         r"\['capturable', 'differentiable', 'foreach', 'fused'\]"
                                         r": a torch.optim state_dict\(\); load it with "
                                         r"layout='torch'"):
        opt.load_state_dict(adam_torch_layout())
    assert opt.param_groups[0]["lr"] == 0.5 and opt.state == {}
