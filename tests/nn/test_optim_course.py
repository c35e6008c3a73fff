"""The course's variants: MomentumGD (momentum as an exponentially weighted average) and
l2_groups (the course's lambda on the weights only), and how they relate to PyTorch's SGD."""

import numpy as np
import pytest

import autodiff as ad
import nn

MomentumGD, SGD = nn.optim.MomentumGD, nn.optim.SGD


def run(make_opt, grads, p0):
    p = ad.tensor(p0.copy(), requires_grad=True)
    opt = make_opt([p])
    out = []
    for g in grads:
        p.grad = ad.tensor(g)
        opt.step()
        out.append(p.data.copy())
    return out, opt, p


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    return rng.standard_normal(4), [rng.standard_normal(4) for _ in range(20)]


@pytest.mark.parametrize("beta, wd", [(0.9, 0.0), (0.5, 0.1), (0.0, 0.0)])
def test_the_course_formula(problem, beta, wd):
    p0, grads = problem
    got, _, _ = run(lambda ps: MomentumGD(ps, lr=0.1, beta=beta, weight_decay=wd), grads, p0)
    W, v = p0.copy(), np.zeros(4)
    for dW, actual in zip(grads, got):
        dW = dW + wd * W
        v = beta * v + (1 - beta) * dW
        W = W - 0.1 * v
        np.testing.assert_allclose(actual, W, rtol=1e-13)


def test_it_is_pytorchs_sgd_with_the_learning_rate_times_one_minus_beta(problem):
    """v_t = (1 - beta) b_t with PyTorch's buffer b_t = beta b_(t-1) + g_t, b_1 = g_1: the
    course's run with lr is SGD(lr=(1 - beta) lr, momentum=beta), step for step."""
    p0, grads = problem
    lr, beta = 0.1, 0.9
    course, opt, p = run(lambda ps: MomentumGD(ps, lr=lr, beta=beta), grads, p0)
    pytorch, sgd, q = run(lambda ps: SGD(ps, lr=(1 - beta) * lr, momentum=beta), grads, p0)
    np.testing.assert_allclose(course, pytorch, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(opt.state[id(p)]["v"],
                               (1 - beta) * sgd.state[id(q)]["momentum_buffer"], rtol=1e-13)


def test_sgd_with_dampening_beta_starts_beta_to_the_t_times_g1_ahead(problem):
    """SGD(lr, momentum=beta, dampening=beta) averages as the course does, but its buffer
    starts at g_1 instead of (1 - beta) g_1: after t steps on the same gradients it holds
    beta^t g_1 more, and the parameter is lr (beta + ... + beta^t) g_1 behind."""
    p0, grads = problem
    lr, beta = 0.1, 0.9
    course, opt, p = run(lambda ps: MomentumGD(ps, lr=lr, beta=beta), grads, p0)
    damped, sgd, q = run(lambda ps: SGD(ps, lr=lr, momentum=beta, dampening=beta), grads, p0)
    t = len(grads)
    np.testing.assert_allclose(sgd.state[id(q)]["momentum_buffer"] - opt.state[id(p)]["v"],
                               beta ** t * grads[0], rtol=1e-10)
    behind = lr * sum(beta ** s for s in range(1, t + 1)) * grads[0]
    np.testing.assert_allclose(course[-1] - damped[-1], behind, rtol=1e-10)


def test_matches_pytorchs_sgd_over_50_steps_with_two_groups():
    """A tiny tanh network, float64, weights and biases in groups with their own rates: the
    course's momentum is torch.optim.SGD(lr=(1 - beta) lr, momentum=beta) (measured: 2e-16)."""
    torch = pytest.importorskip("torch", reason="compare with torch.optim.SGD")
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))
    init = [rng.standard_normal((5, 3)), rng.standard_normal(5), rng.standard_normal((1, 5))]
    lr, beta = 0.2, 0.8

    def train(lib, P, opt):
        out = []
        for _ in range(50):
            opt.zero_grad()
            pred = lib.tanh(lib.tensor(X) @ P[0].T + P[1]) @ P[2].T
            ((pred - lib.tensor(y)) ** 2).mean().backward()
            opt.step()
            out.append(np.concatenate([np.array(p.detach().numpy()).ravel() for p in P]))
        return np.array(out)

    P = [ad.tensor(a.copy(), requires_grad=True) for a in init]
    ours = train(ad, P, MomentumGD([{"params": [P[0], P[2]], "weight_decay": 0.01},
                                    {"params": [P[1]], "lr": lr / 2}], lr=lr, beta=beta))
    T = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    theirs = train(torch, T, torch.optim.SGD(
        [{"params": [T[0], T[2]], "weight_decay": 0.01}, {"params": [T[1]], "lr": lr / 2 * 0.2}],
        lr=lr * (1 - beta), momentum=beta))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)


def test_l2_groups_regularize_the_weights_only():
    """The gradient each parameter gets is dW + (lambd / m) W for weights, db for biases."""
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    groups = nn.optim.l2_groups(model.parameters(), lambd=0.5, m=10)
    weights = [model[0].weight, model[2].weight]
    assert [id(p) for p in groups[0]["params"]] == [id(p) for p in weights]
    assert [id(p) for p in groups[1]["params"]] == [id(model[0].bias), id(model[2].bias)]
    before = [p.data.copy() for p in model.parameters()]
    opt = SGD(groups, lr=1.0)
    for p in model.parameters():
        p.grad = ad.zeros(p.shape)
    opt.step()  # zero gradients: only the decay moves anything
    after = list(model.parameters())
    np.testing.assert_allclose(after[0].data, before[0] * (1 - 0.05), rtol=1e-6)
    np.testing.assert_array_equal(after[1].data, before[1])
    assert groups[1]["weight_decay"] == 0.0


def test_l2_groups_leave_out_an_empty_group():
    w = ad.ones((2, 2), requires_grad=True)
    assert [len(g["params"]) for g in nn.optim.l2_groups([w], 1.0, 4)] == [1]


@pytest.mark.parametrize("call, match", [
    (lambda ps: nn.optim.l2_groups(ps, float("nan"), 10), "l2_groups: lambd must be a number"),
    (lambda ps: nn.optim.l2_groups(ps, -1.0, 10), "lambd must be a number >= 0, got -1.0"),
    (lambda ps: nn.optim.l2_groups(ps, 1.0, 0), r"m \(the number of examples\) must be an "),
    (lambda ps: nn.optim.l2_groups(ps, 1.0, 2.5), "must be an integer >= 1, got 2.5"),
    (lambda ps: MomentumGD(ps, beta=1.0), r"MomentumGD: beta must be a number in \[0, 1\), got"),
    (lambda ps: MomentumGD(ps, beta=float("nan")), "MomentumGD: beta must be a number"),
    (lambda ps: MomentumGD(ps, lr=float("inf")), "MomentumGD: learning rate must be >= 0"),
    (lambda ps: MomentumGD(ps, weight_decay=-1.0), "MomentumGD: weight_decay must be >= 0"),
    (lambda ps: MomentumGD([{"params": ps, "beta": -0.5}]), "MomentumGD: beta must be"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call([ad.ones((2, 2), requires_grad=True)])


def test_momentum_gd_resumes_from_a_checkpoint_file_exactly(problem, tmp_path):
    p0, grads = problem
    straight, _, _ = run(lambda ps: MomentumGD(ps, lr=0.1, beta=0.9), grads, p0)
    half, opt, _ = run(lambda ps: MomentumGD(ps, lr=0.1, beta=0.9), grads[:8], p0)
    nn.save(opt.state_dict(), tmp_path / "o.npz")
    q = ad.tensor(half[-1].copy(), requires_grad=True)
    fresh = MomentumGD([q], lr=0.5, beta=0.5)
    fresh.load_state_dict(nn.load(tmp_path / "o.npz"))
    for g in grads[8:]:
        q.grad = ad.tensor(g)
        fresh.step()
    np.testing.assert_array_equal(q.data, straight[-1])
