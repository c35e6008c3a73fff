"""SparseAdam: Adam on the rows whose gradient is non-zero (the rows an embedding looked up),
against torch.optim.SparseAdam on nn.Embedding(sparse=True) / nn.EmbeddingBag(sparse=True)
over random index sequences, and against the formula by hand without PyTorch."""

import math
import random

import numpy as np
import pytest

import autodiff as ad
import nn


def options(r):
    return dict(lr=r.uniform(1e-3, 0.2), betas=(r.uniform(0, 0.99), r.uniform(0.5, 0.9999)),
                eps=r.choice([1e-8, r.uniform(1e-8, 1e-2)]), maximize=r.random() < 0.3)


class Run:
    """An Embedding and an EmbeddingBag (two parameter groups with their own options) fed
    random indices from small tables, so rows repeat within a batch and many stay untouched;
    a random linear loss of the outputs; some steps leave one of the two out (grad None)."""

    def __init__(self, seed):
        r = random.Random(seed)
        self.seed, self.steps = seed, 25
        self.n, self.m, self.d = r.randint(3, 9), r.randint(3, 9), r.randint(1, 4)
        self.padding_idx = r.choice([None, 0, 2])
        self.mode = r.choice(["sum", "mean"])
        self.options = [options(r), options(r)]
        self.defaults = options(r)
        rng = np.random.default_rng(seed)
        self.w1 = rng.standard_normal((self.n, self.d))
        self.w2 = rng.standard_normal((self.m, self.d))
        if self.padding_idx is not None:
            self.w1[self.padding_idx] = 0.0
        self.batches = []
        for _ in range(self.steps):
            k, bags, size = rng.integers(1, 6), rng.integers(1, 4), rng.integers(1, 4)
            self.batches.append((
                None if rng.random() < 0.15 else rng.integers(0, self.n, k),
                None if rng.random() < 0.15 else rng.integers(0, self.m, (bags, size)),
                rng.standard_normal((k, self.d)), rng.standard_normal((bags, self.d))))

    def go(self, lib, nn_lib, optim, tensor, **table):
        emb = nn_lib.Embedding(self.n, self.d, padding_idx=self.padding_idx, **table)
        bag = nn_lib.EmbeddingBag(self.m, self.d, mode=self.mode, **table)
        with lib.no_grad():
            emb.weight[...] = tensor(self.w1)
            bag.weight[...] = tensor(self.w2)
        opt = optim.SparseAdam([{"params": [emb.weight], **self.options[0]},
                                {"params": [bag.weight], **self.options[1]}], **self.defaults)
        for idx, bags, r1, r2 in self.batches:
            opt.zero_grad()
            loss = 0.0
            if idx is not None:
                loss = loss + (emb(tensor(idx)) * tensor(r1)).sum()
            if bags is not None:
                loss = loss + (bag(tensor(bags)) * tensor(r2)).sum()
            if idx is not None or bags is not None:
                loss.backward()
            opt.step()
            yield emb.weight, bag.weight, opt


@pytest.mark.parametrize("seed", range(12))
def test_matches_pytorchs_sparse_adam_on_sparse_embeddings_at_every_step(seed):
    torch = pytest.importorskip("torch", reason="torch.optim.SparseAdam is the reference")
    run = Run(seed)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        theirs = list((a.detach().numpy().copy(), b.detach().numpy().copy(),
                       [{k: (v if k == "step" else v.numpy().copy()) for k, v in s.items()}
                        for s in (o.state.get(a, {}), o.state.get(b, {}))])
                      for a, b, o in run.go(torch, torch.nn, torch.optim,
                                            lambda x: torch.tensor(np.asarray(x)), sparse=True))
    finally:
        torch.set_default_dtype(old)
    ours = run.go(ad, nn, nn.optim, lambda x: ad.tensor(np.asarray(x)), dtype=np.float64)
    for (ta, tb, tstates), (oa, ob, opt) in zip(theirs, ours, strict=True):
        np.testing.assert_allclose(oa.data, ta, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(ob.data, tb, rtol=1e-12, atol=1e-14)
        for p, tstate in zip((oa, ob), tstates):
            mine = opt.state.get(id(p), {})
            assert set(mine) == set(tstate)
            for key, value in tstate.items():
                np.testing.assert_allclose(mine[key], value, rtol=1e-12, atol=1e-14,
                                           err_msg=key)


def test_by_hand_only_the_looked_up_rows_move_and_their_moments_decay():
    emb = nn.Embedding(4, 2, dtype=np.float64)
    w0 = emb.weight.data.copy()
    opt = nn.optim.SparseAdam(emb.parameters(), lr=0.1, betas=(0.8, 0.9), eps=1e-3)
    r = np.array([[1.0, -2.0], [0.5, 3.0], [2.0, 1.0]])
    (emb(ad.tensor([1, 3, 1])) * ad.tensor(r)).sum().backward()
    opt.step()
    g = np.zeros((4, 2))
    g[1], g[3] = r[0] + r[2], r[1]
    m, v = 0.2 * g, 0.1 * g * g
    want = w0 - 0.1 * math.sqrt(1 - 0.9) / (1 - 0.8) * m / (np.sqrt(v) + 1e-3)
    want[[0, 2]] = w0[[0, 2]]
    np.testing.assert_allclose(emb.weight.data, want, rtol=1e-14)
    np.testing.assert_allclose(opt.state[id(emb.weight)]["exp_avg"], m, rtol=1e-14)
    m = opt.state[id(emb.weight)]["exp_avg"].copy()
    # second step touches row 0 only: rows 1 and 3 keep their moments and values
    opt.zero_grad()
    (emb(ad.tensor([0])) * ad.tensor([[1.0, 1.0]])).sum().backward()
    before = emb.weight.data.copy()
    opt.step()
    state = opt.state[id(emb.weight)]
    np.testing.assert_array_equal(state["exp_avg"][[1, 3]], m[[1, 3]])
    np.testing.assert_array_equal(emb.weight.data[1:], before[1:])
    m0, v0 = 0.2 * np.ones(2), 0.1 * np.ones(2)
    step0 = 0.1 * math.sqrt(1 - 0.81) / (1 - 0.64) * m0 / (np.sqrt(v0) + 1e-3)
    np.testing.assert_allclose(emb.weight.data[0], before[0] - step0, rtol=1e-14)
    assert state["step"] == 2


def test_a_looked_up_row_with_an_all_zero_gradient_stays_put_the_documented_difference():
    """PyTorch's sparse gradient holds the row (its moments decay, it moves by its momentum);
    here a dense gradient cannot tell it from an untouched row."""
    emb = nn.Embedding(3, 2, dtype=np.float64)
    opt = nn.optim.SparseAdam(emb.parameters(), lr=0.1)
    emb(ad.tensor([1])).sum().backward()
    opt.step()
    m = opt.state[id(emb.weight)]["exp_avg"].copy()
    row = emb.weight.data[1].copy()
    opt.zero_grad()
    (emb(ad.tensor([1])) * 0.0).sum().backward()
    opt.step()
    np.testing.assert_array_equal(emb.weight.data[1], row)
    np.testing.assert_array_equal(opt.state[id(emb.weight)]["exp_avg"], m)


def test_any_shape_zero_d_and_empty_parameters():
    s = ad.tensor(2.0, requires_grad=True, dtype="float64")
    e = ad.zeros((0, 3), requires_grad=True, dtype="float64")
    c = ad.ones((2, 2, 2), requires_grad=True, dtype="float64")
    opt = nn.optim.SparseAdam([s, e, c], lr=0.5)
    s.grad, e.grad = ad.tensor(1.0, dtype="float64"), ad.zeros((0, 3), dtype="float64")
    c.grad = ad.tensor(np.array([[[0, 0], [0, 0]], [[0, 1.0], [0, 0]]]))
    opt.step()
    assert s.item() == pytest.approx(1.5, rel=1e-6)
    np.testing.assert_array_equal(c.data[0], 1.0)
    assert c.data[1, 0, 1] == pytest.approx(0.5, abs=1e-6) and c.data[1, 0, 0] == 1.0
    assert opt.state[id(e)]["step"] == 1 and e.shape == (0, 3)


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=0.0), r"SparseAdam: lr must be > 0"),
    (dict(lr=-1.0), r"SparseAdam: learning rate must be >= 0"),
    (dict(eps=0.0), r"SparseAdam: eps must be > 0"),
    (dict(betas=(1.0, 0.9)), r"SparseAdam: betas must be two numbers in \[0, 1\)"),
    (dict(lr=float("nan")), r"SparseAdam: learning rate must be >= 0 \(a finite number\)"),
    (dict(eps=float("nan")), r"SparseAdam: eps must be >= 0 \(a finite number\), got nan"),
    (dict(eps="1e-8"), r"SparseAdam: eps must be >= 0 \(a finite number\), got '1e-8'"),
])
def test_bad_options_are_refused_as_pytorch_refuses_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn.optim.SparseAdam([ad.ones(2, requires_grad=True)], **kwargs)


def test_state_dict_round_trip_mid_training_continues_bit_for_bit():
    run = Run(7)
    whole = [w.data.copy() for w, _, _ in run.go(ad, nn, nn.optim, ad.tensor,
                                                  dtype=np.float64)][-1]
    steps = run.go(ad, nn, nn.optim, ad.tensor, dtype=np.float64)
    for _ in range(10):
        weight, _, opt = next(steps)
    saved = opt.state_dict()
    opt.state = {}
    opt.load_state_dict(saved)
    for _ in steps:
        pass
    np.testing.assert_array_equal(weight.data, whole)


@pytest.mark.parametrize("make", [
    lambda: nn.Embedding(3, 2, sparse=True),
    lambda: nn.EmbeddingBag(3, 2, sparse=True),
    lambda: nn.functional.embedding(ad.tensor([0]), ad.ones((3, 2)), sparse=True),
    lambda: nn.functional.embedding_bag(ad.tensor([[0]]), ad.ones((3, 2)), sparse=True),
], ids=["Embedding", "EmbeddingBag", "embedding", "embedding_bag"])
def test_sparse_true_is_refused_and_points_to_sparse_adam(make):
    with pytest.raises(ValueError, match=r"sparse gradients do not exist .* optim\.SparseAdam "
                                         r"then moves only the rows a batch looked up"):
        make()


@pytest.mark.parametrize("direction", ["from_torch", "to_torch"])
def test_state_in_pytorchs_layout_continues_across_libraries(direction):
    """Ten steps in one library, the state carried over in PyTorch's layout, fifteen more in
    both: the same numbers."""
    torch = pytest.importorskip("torch", reason="torch.optim.SparseAdam is the reference")
    run = Run(11)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        t_steps = run.go(torch, torch.nn, torch.optim, lambda x: torch.tensor(np.asarray(x)),
                         sparse=True)
        o_steps = run.go(ad, nn, nn.optim, lambda x: ad.tensor(np.asarray(x)),
                         dtype=np.float64)
        for _ in range(10):
            ta, tb, topt = next(t_steps)
            oa, ob, oopt = next(o_steps)
        with torch.no_grad():
            if direction == "from_torch":
                sd = topt.state_dict()  # its entries are topt's own dicts: make new ones
                sd["state"] = {i: {k: v.numpy().copy() if torch.is_tensor(v) else v
                                   for k, v in entries.items()}
                               for i, entries in sd["state"].items()}
                oa.data[...], ob.data[...] = ta.numpy(), tb.numpy()
                oopt.state = {}
                oopt.load_state_dict(sd, layout="torch")
            else:
                sd = oopt.state_dict(layout="torch")
                sd["state"] = {i: {k: torch.from_numpy(v.copy()) if isinstance(v, np.ndarray)
                                   else v for k, v in entries.items()}
                               for i, entries in sd["state"].items()}
                ta[...], tb[...] = torch.from_numpy(oa.data), torch.from_numpy(ob.data)
                topt.load_state_dict(sd)
        for (ta, tb, _), (oa, ob, _) in zip(t_steps, o_steps, strict=True):
            np.testing.assert_allclose(oa.data, ta.detach().numpy(), rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(ob.data, tb.detach().numpy(), rtol=1e-12, atol=1e-14)
    finally:
        torch.set_default_dtype(old)
