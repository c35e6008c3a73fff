import numpy as np
import pytest

import autodiff as ad
import nn
from nn.data import DataLoader, TensorDataset, random_split


def test_minibatches_cover_the_data_once_per_epoch():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=1)
    assert len(loader) == 3
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    seen = np.concatenate([b[1].data for b in batches])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64
    for xb, yb in batches:  # rows stay paired with their labels
        np.testing.assert_array_equal(xb.data[:, 0], yb.data * 2)
    second = [b[1].data.tolist() for b in loader]
    assert second != [b[1].data.tolist() for b in batches]  # a new permutation per epoch


def test_seeded_reproducible_and_drop_last_and_transform():
    X, y = np.random.default_rng(0).standard_normal((9, 3)), np.arange(9)
    a = [b[1].data.tolist() for b in DataLoader(TensorDataset(X, y), 4, shuffle=True, seed=5)]
    b = [b[1].data.tolist() for b in DataLoader(TensorDataset(X, y), 4, shuffle=True, seed=5)]
    assert a == b
    loader = DataLoader(TensorDataset(X, y), 4, drop_last=True, transform=lambda x: x * 0)
    assert len(loader) == 2 and all((xb.data == 0).all() for xb, _ in loader)


def test_generic_dataset_and_random_split():
    class Squares:
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return np.array([i, i * i], np.float32), i

    assert isinstance(Squares(), nn.data.Dataset)
    (xb, yb), = list(DataLoader(Squares(), batch_size=6))
    assert xb.shape == (6, 2) and yb.data.tolist() == list(range(6))
    parts = random_split(TensorDataset(np.arange(10)), [0.7, 0.3], seed=0)
    assert [len(p) for p in parts] == [7, 3]
    idx = sorted(np.concatenate([p.indices for p in parts]).tolist())
    assert idx == list(range(10))
    with pytest.raises(ValueError, match="add up"):
        random_split(TensorDataset(np.arange(10)), [3, 3])


def test_errors():
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=0)
    assert ad.tensor(1.0).dtype == np.float32


def test_generator_gives_the_seeds_batches_and_excludes_seed():
    ds = TensorDataset(np.arange(12.0).reshape(6, 2), np.arange(6))
    by_seed = [yb.data.tolist() for _ in range(2)
               for _, yb in DataLoader(ds, 2, shuffle=True, seed=3)]
    loader = DataLoader(ds, 2, shuffle=True, generator=np.random.default_rng(3))
    by_generator = [yb.data.tolist() for _ in range(2) for _, yb in loader][:3]
    assert by_generator == by_seed[:3]
    with pytest.raises(ValueError, match="seed or a generator"):
        DataLoader(ds, 2, seed=1, generator=np.random.default_rng(1))


def batches(loader, stop=None):
    """The labels of each batch, until `stop` batches (the iteration then left suspended)."""
    out = []
    for _, yb in loader:
        out.append(yb.data.tolist())
        if len(out) == stop:
            break
    return out


@pytest.mark.parametrize("taken", [0, 1, 2, 3])
@pytest.mark.parametrize("drop_last", [False, True])
def test_a_loader_resumed_mid_epoch_finishes_it_with_the_same_batches(taken, drop_last, tmp_path):
    from nn.vision import transforms as T

    def make(seed):
        ds = TensorDataset(np.arange(7 * 4, dtype=np.float32).reshape(7, 1, 2, 2), np.arange(7))
        return DataLoader(ds, 2, shuffle=True, seed=seed, drop_last=drop_last,
                          transform=T.RandomHorizontalFlip(seed=seed))

    straight = make(0)
    want = [[x.data.copy() for x, _ in straight] for _ in range(3)]
    loader = make(0)
    first = [[x.data.copy() for x, _ in loader]]  # one whole epoch, then `taken` batches
    it = iter(loader)
    first.append([next(it)[0].data.copy() for _ in range(taken)])
    nn.save({"loader": loader.state_dict()}, tmp_path / "c.npz")
    resumed = make(5)
    resumed.load_state_dict(nn.load(tmp_path / "c.npz")["loader"])
    assert resumed.state_dict()["batch"] == taken  # a save right after a load says the same
    first[1] += [x.data.copy() for x, _ in resumed]
    first.append([x.data.copy() for x, _ in resumed])
    assert [[b.tolist() for b in e] for e in first] == [[b.tolist() for b in e] for e in want]


def test_the_state_between_epochs_starts_the_next_one():
    ds = TensorDataset(np.arange(6.0), np.arange(6))
    loader = DataLoader(ds, 2, shuffle=True, seed=3)
    batches(loader)
    state = loader.state_dict()
    assert state["batch"] == 0
    other = DataLoader(ds, 2, shuffle=True, seed=4)
    other.load_state_dict(state)
    assert batches(other) == batches(loader)


def test_a_state_past_the_epoch_or_for_another_transform_is_refused():
    from nn.vision import transforms as T

    ds = TensorDataset(np.zeros((4, 1, 2, 2), np.float32))
    loader = DataLoader(ds, 2, shuffle=True, seed=0)
    with pytest.raises(ValueError, match="batch 3 of an epoch of 2 batches"):
        loader.load_state_dict({"rng": loader.rng.bit_generator.state, "batch": 3})
    with pytest.raises(ValueError, match="batch -1"):
        loader.load_state_dict({"rng": loader.rng.bit_generator.state, "batch": -1})
    augmented = DataLoader(ds, 2, transform=T.RandomAffine(seed=0)).state_dict()
    with pytest.raises(ValueError, match="transform keeps none"):
        loader.load_state_dict(augmented)
