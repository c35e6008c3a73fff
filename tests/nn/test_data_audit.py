"""What the DataLoader and random_split did silently: a TensorDataset subclass's own
__getitem__ was skipped (the rows came straight from its arrays), a field that is a tuple or
list became one array of its items (an integer label promoted to the float beside it, where
PyTorch's default_collate keeps them apart), NaN and infinite lengths reached int()."""

import numpy as np
import pytest

from nn.data import DataLoader, Subset, TensorDataset, random_split


class Shifted(TensorDataset):
    """A TensorDataset whose examples are its rows plus 100 (a per-example transform)."""

    def __getitem__(self, index):
        x, y = super().__getitem__(index)
        return x + 100, y


class Items:
    def __init__(self, *items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


@pytest.mark.parametrize("shuffle", [False, True])
def test_a_tensor_dataset_subclass_is_read_through_its_getitem(shuffle):
    ds = Shifted(np.arange(5.0), np.arange(5))
    batches = list(DataLoader(ds, batch_size=2, shuffle=shuffle, seed=0))
    for xb, yb in batches:
        np.testing.assert_array_equal(xb.data, yb.data + 100.0)  # was yb.data: the rows
    assert sorted(np.concatenate([y.data for _, y in batches]).tolist()) == list(range(5))

    class Named(TensorDataset):  # no __getitem__ of its own: the rows, as before
        pass

    (xb, yb), = list(DataLoader(Named(np.arange(4.0), np.arange(4)), batch_size=4))
    assert xb.data.tolist() == [0.0, 1.0, 2.0, 3.0] and yb.dtype == np.int64


@pytest.mark.parametrize("field", [(1, 0.5), [1, 0.5], [1.0, 2.0], {"w": 0.5}])
def test_a_field_that_is_a_tuple_list_or_dict_is_refused(field):
    # it became one (2, 2) float64 array: the label 1 came back as 1.0
    ds = Items((np.float32(0), field), (np.float32(1), field))
    with pytest.raises(TypeError, match=f"DataLoader: field 1 of example 0 is a "
                                        f"{type(field).__name__}, not an array or a number; "
                                        "return its items as fields of their own"):
        list(DataLoader(ds, batch_size=2))


@pytest.mark.parametrize("lengths", [[float("nan"), 1.0], [float("inf"), 0], ["3", 2],
                                     [True, False]])
def test_random_split_refuses_lengths_that_are_not_finite_numbers(lengths):
    with pytest.raises(ValueError, match=r"random_split: lengths must be finite numbers"):
        random_split(TensorDataset(np.arange(5.0)), lengths, seed=0)


def test_subset_refuses_a_boolean_mask_and_float_indices():
    ds = TensorDataset(np.arange(5.0), np.arange(5))
    mask = ds.arrays[1] >= 3
    # the mask became the positions [0, 0, 0, 1, 1]: examples 0 and 1, five times over
    with pytest.raises(TypeError, match=r"Subset: indices is a boolean mask; pass the positions "
                                        r"it selects, np.flatnonzero\(mask\)"):
        Subset(ds, mask)
    with pytest.raises(TypeError, match="Subset: indices must be integers, got float64"):
        Subset(ds, [0.5, 3.9])  # was examples 0 and 3
    with pytest.raises(ValueError, match=r"Subset: indices must be one list of positions, got "
                                         r"shape \(1, 2\)"):
        Subset(ds, [[0, 1]])
    picked = Subset(ds, np.flatnonzero(mask))
    assert len(picked) == 2 and [int(picked[i][1]) for i in range(2)] == [3, 4]
    assert len(Subset(ds, [])) == 0


def test_without_a_seed_autodiffs_seed_makes_shuffling_and_splits_reproducible():
    """As torch.manual_seed does for PyTorch's loader and random_split (unseeded, they drew
    from the operating system: another order every run, whatever ad.manual_seed said)."""
    import autodiff as ad

    ds = TensorDataset(np.arange(40.0), np.arange(40))

    def orders():
        ad.manual_seed(7)
        loader = DataLoader(ds, batch_size=8, shuffle=True)
        epochs = [np.concatenate([y.data for _, y in loader]).tolist() for _ in range(2)]
        parts = [p.indices.tolist() for p in random_split(ds, [0.5, 0.5])]
        return epochs, parts

    (first, second), parts = orders()
    assert orders() == ([first, second], parts)
    assert first != second and sorted(first) == list(range(40))  # a new order each epoch
    ad.manual_seed(8)
    assert np.concatenate([y.data for _, y in DataLoader(ds, 8, shuffle=True)]).tolist() != first


def test_a_tensor_that_requires_grad_is_refused_as_np_asarray_refuses_it():
    """Its values were taken silently: the gradient a user expected never reached it."""
    import autodiff as ad

    w = ad.tensor(np.ones((3, 2), np.float32), requires_grad=True)
    with pytest.raises(ValueError, match=r"TensorDataset: array 0 is a Tensor that requires "
                                         r"grad; .* pass t.detach\(\)"):
        TensorDataset(w)
    ds = Items((w[0], 0), (w[1], 1))
    with pytest.raises(ValueError, match=r"DataLoader: field 0 of example 0 is a Tensor that "
                                         r"requires grad"):
        list(DataLoader(ds, batch_size=2))
    assert len(TensorDataset(w.detach())) == 3
    with ad.no_grad():  # as np.asarray(w) there: the values, knowingly
        assert len(TensorDataset(w)) == 3


def test_options_after_shuffle_are_keyword_only():
    """PyTorch's DataLoader(ds, 32, True, sampler): the sampler became drop_last=True here."""
    ds = TensorDataset(np.arange(5.0))
    with pytest.raises(TypeError, match="positional argument"):
        DataLoader(ds, 2, True, object())
    assert len(DataLoader(ds, 2, True, drop_last=True, seed=0)) == 2
