"""Each optimizer against its written update rule, step by step, in NumPy."""

import numpy as np
import pytest

import autodiff as ad
import nn

STEPS = 5


def run(make_opt, grads_seq, p0):
    """Apply the optimizer to a parameter with the given gradient sequence."""
    p = ad.tensor(p0.copy(), requires_grad=True)
    opt = make_opt([p])
    out = []
    for g in grads_seq:
        p.grad = ad.tensor(g)
        opt.step()
        out.append(p.data.copy())
    return out


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(4)
    grads = [rng.standard_normal(4) for _ in range(STEPS)]
    return p0, grads


@pytest.mark.parametrize("mu, damp, nesterov, wd", [(0, 0, False, 0), (0.9, 0, False, 0.01),
                                                     (0.9, 0.1, False, 0), (0.9, 0, True, 0.1)])
def test_sgd(problem, mu, damp, nesterov, wd):
    p0, grads = problem
    got = run(lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=mu, dampening=damp,
                                      nesterov=nesterov, weight_decay=wd), grads, p0)
    p, buf = p0.copy(), None
    for g, actual in zip(grads, got):
        g = g + wd * p
        if mu:
            buf = g.copy() if buf is None else mu * buf + (1 - damp) * g
            g = g + mu * buf if nesterov else buf
        p = p - 0.1 * g
        np.testing.assert_allclose(actual, p, rtol=1e-12)


@pytest.mark.parametrize("cls, wd, amsgrad", [(nn.optim.Adam, 0, False), (nn.optim.Adam, 0.1, True),
                                              (nn.optim.AdamW, 0.1, False),
                                              (nn.optim.AdamW, 0.1, True)])
def test_adam_family(problem, cls, wd, amsgrad):
    p0, grads = problem
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    got = run(lambda ps: cls(ps, lr=lr, weight_decay=wd, amsgrad=amsgrad), grads, p0)
    p, m, v, vmax = p0.copy(), 0.0, 0.0, 0.0
    for t, (g, actual) in enumerate(zip(grads, got), start=1):
        if cls is nn.optim.AdamW:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        vv = vmax if amsgrad else v
        p = p - lr * (m / (1 - b1 ** t)) / (np.sqrt(vv / (1 - b2 ** t)) + eps)
        np.testing.assert_allclose(actual, p, rtol=1e-10)


@pytest.mark.parametrize("mu, centered", [(0, False), (0.9, True)])
def test_rmsprop(problem, mu, centered):
    p0, grads = problem
    lr, a, eps = 0.01, 0.99, 1e-8
    got = run(lambda ps: nn.optim.RMSprop(ps, lr=lr, momentum=mu, centered=centered), grads, p0)
    p, v, ga, b = p0.copy(), 0.0, 0.0, 0.0
    for g, actual in zip(grads, got):
        v = a * v + (1 - a) * g * g
        if centered:
            ga = a * ga + (1 - a) * g
            avg = np.sqrt(v - ga * ga) + eps
        else:
            avg = np.sqrt(v) + eps
        if mu:
            b = mu * b + g / avg
            p = p - lr * b
        else:
            p = p - lr * g / avg
        np.testing.assert_allclose(actual, p, rtol=1e-10)


def test_adagrad(problem):
    p0, grads = problem
    lr, decay, eps = 0.1, 0.01, 1e-10
    got = run(lambda ps: nn.optim.Adagrad(ps, lr=lr, lr_decay=decay), grads, p0)
    p, s = p0.copy(), 0.0
    for t, (g, actual) in enumerate(zip(grads, got), start=1):
        clr = lr / (1 + (t - 1) * decay)
        s = s + g * g
        p = p - clr * g / (np.sqrt(s) + eps)
        np.testing.assert_allclose(actual, p, rtol=1e-10)


def test_float32_parameters_stay_float32():
    p = ad.randn(3, requires_grad=True)
    for cls in (nn.optim.SGD, nn.optim.Adam, nn.optim.RMSprop, nn.optim.Adagrad):
        opt = cls([p], lr=0.1)
        p.grad = ad.randn(3)
        opt.step()
        assert p.dtype == np.float32 and all(
            v.dtype == np.float32 for s in opt.state.values() for v in s.values()
            if isinstance(v, np.ndarray))


def test_param_groups_and_zero_grad():
    a, b = ad.ones(2, requires_grad=True), ad.ones(2, requires_grad=True)
    opt = nn.optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad, b.grad = ad.ones(2), ad.ones(2)
    opt.step()
    np.testing.assert_allclose(a.data, 0.9)
    np.testing.assert_allclose(b.data, 0.0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_state_dict_resumes_exactly(problem):
    p0, grads = problem
    full = run(lambda ps: nn.optim.Adam(ps, lr=0.01), grads, p0)
    p = ad.tensor(p0.copy(), requires_grad=True)
    opt = nn.optim.Adam([p], lr=0.01)
    for g in grads[:2]:
        p.grad = ad.tensor(g)
        opt.step()
    saved, p_saved = opt.state_dict(), p.data.copy()
    q = ad.tensor(p_saved, requires_grad=True)
    opt2 = nn.optim.Adam([q], lr=0.5)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == 0.01
    for g in grads[2:]:
        q.grad = ad.tensor(g)
        opt2.step()
    np.testing.assert_array_equal(q.data, full[-1])


def test_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        nn.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="learning rate must be >= 0"):
        nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=-0.1)
    with pytest.raises(ValueError, match="momentum"):
        nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=0.1, momentum=-1)
    with pytest.raises(ValueError, match="betas"):
        nn.optim.Adam([ad.ones(1, requires_grad=True)], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="does not require grad"):
        nn.optim.Adam([ad.ones(1)])
    with pytest.raises(ValueError, match="two groups"):
        p = ad.ones(1, requires_grad=True)
        nn.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="nesterov"):
        nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=0.1, nesterov=True)


@pytest.mark.parametrize("make, message", [
    (lambda ps: nn.optim.RMSprop(ps, alpha=1.5), "alpha"),
    (lambda ps: nn.optim.RMSprop(ps, momentum=-0.1), "momentum"),
    (lambda ps: nn.optim.Adagrad(ps, lr_decay=-1.0), "lr_decay"),
    (lambda ps: nn.optim.Adam(ps, eps=-1.0), "eps must be >= 0"),
    (lambda ps: nn.optim.AdamW(ps, betas=(0.9, 1.0)), "betas"),
    (lambda ps: nn.optim.SGD(ps, lr=0.1, weight_decay=-1.0), "weight_decay must be >= 0"),
    (lambda ps: nn.optim.SGD([{"params": ps, "lr": -1.0}], lr=0.1), "learning rate"),
    (lambda ps: nn.optim.SGD([{"params": ps, "momentum": -1.0}], lr=0.1), "momentum must be"),
    (lambda ps: nn.optim.Adam([{"params": ps, "betas": (0.9, 1.5)}]), "betas"),
    (lambda ps: nn.optim.Adam(ps, lr=float("nan")), "learning rate must be >= 0"),
    (lambda ps: nn.optim.RMSprop(ps, eps=float("nan")), "eps must be >= 0"),
    (lambda ps: nn.optim.SGD(ps, lr=0.1, nesterov="yes"), "nesterov must be True or False"),
])
def test_bad_hyperparameters(make, message):
    with pytest.raises(ValueError, match=message):
        make([ad.ones(2, requires_grad=True)])


def test_state_dict_survives_a_checkpoint_file(tmp_path):
    w = ad.tensor([1.0, -2.0], requires_grad=True)
    opt = nn.optim.Adam([w], lr=0.1, amsgrad=True)
    (w * w).sum().backward()
    opt.step()
    nn.save(opt.state_dict(), tmp_path / "opt.npz")
    fresh = nn.optim.Adam([w], lr=0.5, amsgrad=True)  # amsgrad keeps one more state
    fresh.load_state_dict(nn.load(tmp_path / "opt.npz"))
    assert fresh.param_groups[0]["lr"] == 0.1 and fresh.param_groups[0]["amsgrad"] is True
    saved, restored = opt.state[id(w)], fresh.state[id(w)]
    assert saved.keys() == restored.keys()
    for k in saved:
        np.testing.assert_array_equal(restored[k], saved[k])


# -- loading a saved state: checked whole, nothing changed when refused ----------------------


def stepped(make, shapes=((2, 3), (3,)), steps=2, seed=0):
    """An optimizer over parameters of `shapes`, after `steps` steps."""
    rng = np.random.default_rng(seed)
    params = [ad.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
              for s in shapes]
    opt = make(params)
    for _ in range(steps):
        for p in params:
            p.grad = ad.tensor(rng.standard_normal(p.shape).astype(np.float32))
        opt.step()
    return opt


def snapshot(opt):
    """Everything a load could change, comparable with ==: options, state (as bytes), params."""
    def plain(v):
        return (v.dtype, v.shape, v.tobytes()) if isinstance(v, np.ndarray) else v
    groups = [{k: ([id(p) for p in v] if k == "params" else v) for k, v in g.items()}
              for g in opt.param_groups]
    state = {k: {n: plain(v) for n, v in s.items()} for k, s in opt.state.items()}
    params = [(id(p), plain(p.data)) for p in opt._params()]
    return groups, state, params


def assert_refused(opt, saved, match):
    before = snapshot(opt)
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(saved)
    assert snapshot(opt) == before


SGD, Adam, AdamW, RMSprop, Adagrad = (nn.optim.SGD, nn.optim.Adam, nn.optim.AdamW,
                                      nn.optim.RMSprop, nn.optim.Adagrad)


@pytest.mark.parametrize("saver, loader, match", [
    (lambda ps: Adam(ps, lr=0.1), lambda ps: SGD(ps, lr=0.5),
     r"SGD.load_state_dict: the state was saved by Adam, not by SGD"),
    (lambda ps: AdamW(ps, lr=0.1), lambda ps: Adam(ps, lr=0.5), "saved by AdamW, not by Adam"),
    (lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: SGD(ps, lr=0.5),
     r"group 0: the saved options keep \['momentum_buffer'\] for each parameter, this "
     r"optimizer's \[\] .*'momentum': \(0.9, 0.0\)"),
    (lambda ps: SGD(ps, lr=0.1), lambda ps: SGD(ps, lr=0.5, momentum=0.9),
     r"keep \[\] for each parameter, this optimizer's \['momentum_buffer'\]"),
    (lambda ps: Adam(ps, lr=0.1, amsgrad=True), lambda ps: Adam(ps, lr=0.5), "max_exp_avg_sq"),
    (lambda ps: RMSprop(ps, lr=0.1, centered=True), lambda ps: RMSprop(ps, lr=0.5), "grad_avg"),
    (lambda ps: Adam([{"params": ps[:1]}, {"params": ps[1:]}], lr=0.1),
     lambda ps: Adam(ps, lr=0.5), r"groups of \[1, 1\] parameters, this optimizer \[2\]"),
], ids=["adam-into-sgd", "adamw-into-adam", "momentum-into-plain-sgd", "plain-into-momentum-sgd",
        "amsgrad-into-adam", "centered-into-rmsprop", "two-groups-into-one"])
def test_an_optimizer_refuses_another_optimizers_state(saver, loader, match):
    saved = stepped(saver).state_dict()
    assert_refused(stepped(loader, seed=1), saved, match)


def test_a_state_for_other_parameters_is_refused():
    saved = stepped(lambda ps: Adam(ps, lr=0.1)).state_dict()
    assert_refused(stepped(lambda ps: Adam(ps, lr=0.5), shapes=((2, 3),)), saved,
                   r"groups of \[2\] parameters, this optimizer \[1\]")
    assert_refused(stepped(lambda ps: Adam(ps, lr=0.5), shapes=((2, 3), (4,))), saved,
                   r"state 'exp_avg' of parameter 1 has shape \(3,\) in the state but \(4,\) in "
                   "the parameter")


def edit(saved, group=None, **entries):
    """A copy of a state_dict with options of group 0 (or one parameter's state) replaced."""
    out = {**saved, "param_groups": [dict(g) for g in saved["param_groups"]],
           "state": {k: dict(v) for k, v in saved["state"].items()}}
    if group is None:
        out["param_groups"][0].update(entries)
    else:
        out["state"][group].update(entries)
    return out


@pytest.mark.parametrize("make, edits, match", [
    (SGD, {"lr": -0.1}, "group 0: SGD: learning rate must be >= 0"),
    (SGD, {"lr": float("nan")}, r"learning rate must be >= 0 \(a finite number\), got nan"),
    (SGD, {"lr": "0.1"}, "learning rate must be >= 0"),
    (SGD, {"momentum": -0.5}, "momentum must be >= 0"),
    (SGD, {"weight_decay": float("inf")}, "weight_decay"),
    (SGD, {"nesterov": True, "dampening": 0.5}, "nesterov needs momentum > 0 and dampening 0"),
    (SGD, {"maximize": "yes"}, "maximize must be True or False"),
    (SGD, {"initial_lr": -1.0}, "initial_lr must be >= 0"),
    (Adam, {"betas": (1.0, 0.9)}, r"betas must be two numbers in \[0, 1\)"),
    (Adam, {"betas": (0.9,)}, "betas"),
    (Adam, {"eps": -1e-8}, "eps must be >= 0"),
    (Adam, {"amsgrad": None}, "amsgrad must be True or False"),
    (RMSprop, {"alpha": 1.5}, r"alpha must be in \[0, 1\]"),
    (Adagrad, {"lr_decay": -1.0}, "lr_decay must be >= 0"),
], ids=["negative-lr", "nan-lr", "string-lr", "negative-momentum", "inf-weight-decay",
        "nesterov-with-dampening", "string-maximize", "negative-initial-lr", "beta-of-1",
        "one-beta", "negative-eps", "none-amsgrad", "alpha-above-1", "negative-lr-decay"])
def test_loaded_hyperparameters_are_checked_like_the_constructor(make, edits, match):
    momentum = {"momentum": 0.9} if make is SGD else {}
    saved = stepped(lambda ps: make(ps, lr=0.1, **momentum)).state_dict()
    assert_refused(stepped(lambda ps: make(ps, lr=0.5, **momentum), seed=1),
                   edit(saved, **edits), match)


@pytest.mark.parametrize("edits, match", [
    ({"step": -1}, "state 'step' of parameter 1 is -1, a count that must be >= 0"),
    ({"step": float("nan")}, "state 'step' of parameter 1 is nan, not a finite number"),
    ({"exp_avg": np.array([0.0, np.nan, 0.0])}, "state 'exp_avg' of parameter 1 holds 1 NaN"),
    ({"exp_avg": 0.0}, r"state 'exp_avg' of parameter 1 has shape \(\) in the state but \(3,\)"),
    ({"exp_avg_sq": np.array(["a", "b", "c"])}, "exp_avg_sq' of parameter 1 holds <U1 values"),
    ({"velocity": np.zeros(3)}, r"parameter 1: the saved state holds \['exp_avg', 'exp_avg_sq', "
                                r"'step', 'velocity'\], this optimizer keeps \['exp_avg', "),
], ids=["negative-step", "nan-step", "nan-moment", "number-for-an-array", "strings",
        "unknown-name"])
def test_corrupt_state_entries_are_refused(edits, match):
    saved = stepped(lambda ps: Adam(ps, lr=0.1)).state_dict()
    assert_refused(stepped(lambda ps: Adam(ps, lr=0.5), seed=1), edit(saved, group="1", **edits),
                   match)


def test_the_state_says_who_saved_it_and_an_old_state_loads_by_the_documented_rule(tmp_path):
    opt = stepped(lambda ps: Adam(ps, lr=0.1, amsgrad=True))
    nn.save(opt.state_dict(), tmp_path / "new.npz")
    saved = nn.load(tmp_path / "new.npz")
    assert saved["optimizer"] == "Adam"
    assert saved["state_names"] == [["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]]
    old = {k: v for k, v in saved.items() if k not in ("optimizer", "state_names")}
    nn.save(old, tmp_path / "old.npz")  # as written before the two fields existed
    fresh = stepped(lambda ps: Adam(ps, lr=0.5, amsgrad=True), seed=1)
    fresh.load_state_dict(nn.load(tmp_path / "old.npz"))
    for p, q in zip(fresh._params(), opt._params()):
        for name, v in opt.state[id(q)].items():
            np.testing.assert_array_equal(fresh.state[id(p)][name], v)
    assert fresh.param_groups[0]["lr"] == 0.1
    assert_refused(stepped(lambda ps: SGD(ps, lr=0.5)), nn.load(tmp_path / "old.npz"),
                   r"group 0 lacks the hyperparameters \['dampening', 'momentum', 'nesterov'\] "
                   r"of SGD \(saved by another optimizer\?\)")
    edited = dict(saved, state_names=[["exp_avg"]])
    assert_refused(stepped(lambda ps: Adam(ps, lr=0.5, amsgrad=True), seed=1), edited,
                   r"'state_names' says \['exp_avg'\] but the options keep")


# -- every hyperparameter of every optimizer refuses NaN, inf, and negatives where PyTorch does

NUMERIC = {  # optimizer: {hyperparameter: (name in the message, negative refused)}
    SGD: {"lr": ("learning rate", True), "momentum": ("momentum", True),
          "dampening": ("dampening", False), "weight_decay": ("weight_decay", True)},
    Adam: {"lr": ("learning rate", True), "eps": ("eps", True),
           "weight_decay": ("weight_decay", True)},
    AdamW: {"lr": ("learning rate", True), "eps": ("eps", True),
            "weight_decay": ("weight_decay", True)},
    RMSprop: {"lr": ("learning rate", True), "alpha": ("alpha", True), "eps": ("eps", True),
              "weight_decay": ("weight_decay", True), "momentum": ("momentum", True)},
    Adagrad: {"lr": ("learning rate", True), "lr_decay": ("lr_decay", True),
              "weight_decay": ("weight_decay", True),
              "initial_accumulator_value": ("initial_accumulator_value", True),
              "eps": ("eps", True)},
}
BAD_NUMBERS = [(make, key, label, value) for make, keys in NUMERIC.items()
               for key, (label, negative) in keys.items()
               for value in [float("nan"), float("inf"), -float("inf")] + [-1.0] * negative]
BAD_BETAS = [(make, betas) for make in (Adam, AdamW)
             for betas in [(float("nan"), 0.999), (0.9, float("nan")), (float("inf"), 0.999),
                           (0.9, float("inf")), (-0.1, 0.999), (0.9, -0.1), (1.0, 0.999),
                           (0.9, 1.0)]]


@pytest.mark.parametrize("make, key, label, value", BAD_NUMBERS,
                         ids=[f"{m.__name__}-{k}-{v}" for m, k, _, v in BAD_NUMBERS])
@pytest.mark.parametrize("where", ["constructor", "group"])
def test_every_hyperparameter_refuses_nan_inf_and_negatives(make, key, label, value, where):
    w = ad.ones(2, requires_grad=True)
    args = ([w], {"lr": 0.1, key: value}) if where == "constructor" else (
        [{"params": [w], key: value}], {"lr": 0.1})
    with pytest.raises(ValueError) as err:
        make(args[0], **args[1])
    assert str(err.value).startswith(f"{make.__name__}: {label} must be")
    assert str(err.value).endswith(f"got {value!r}")


def test_sgd_dampening_may_be_negative_as_in_pytorch():
    assert SGD([ad.ones(2, requires_grad=True)], lr=0.1, dampening=-1.0).defaults["dampening"] < 0


@pytest.mark.parametrize("make, betas", BAD_BETAS,
                         ids=[f"{m.__name__}-{b}" for m, b in BAD_BETAS])
def test_betas_refuse_nan_inf_and_values_outside_0_1(make, betas):
    with pytest.raises(ValueError, match=rf"^{make.__name__}: betas must be two numbers in "
                                         rf"\[0, 1\), got \({betas[0]!r}, {betas[1]!r}\)$"):
        make([ad.ones(2, requires_grad=True)], lr=0.1, betas=betas)


def test_step_with_a_closure_evaluates_it_with_grad_on_and_returns_its_loss():
    """PyTorch's `opt.step(closure)` works for every optimizer, also inside no_grad."""
    w = ad.tensor([1.0, -2.0], requires_grad=True)
    opt = nn.optim.Adam([w], lr=0.1)
    calls = []

    def closure():
        calls.append(ad.is_grad_enabled())
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with ad.no_grad():
        loss = opt.step(closure)
    assert calls == [True] and loss.item() == 5.0
    np.testing.assert_allclose(w.data, [0.9, -1.9], rtol=1e-6)
    assert opt.step() is None
