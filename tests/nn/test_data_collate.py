"""How a DataLoader makes batches of a dataset's examples, and what it refuses: list examples
are fields as tuples are (they became one array), dicts and non-numbers are refused (dicts made
an object tensor), a batch_size that is not a positive int is refused by name."""

import numpy as np
import pytest

from nn.data import DataLoader, TensorDataset, random_split


class Items:
    """A dataset of the given examples."""

    def __init__(self, *items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def test_list_examples_are_fields_as_tuples_are():
    ds = Items([np.float32(0), 0], [np.float32(1), 2], [np.float32(2), 4])
    (xb, yb), = list(DataLoader(ds, batch_size=3))
    assert xb.shape == (3,) and xb.dtype == np.float32
    assert yb.data.tolist() == [0, 2, 4] and yb.dtype == np.int64


def test_single_values_are_one_field():
    (xb,), = list(DataLoader(Items(1.5, 2.5), batch_size=2))
    assert xb.data.tolist() == [1.5, 2.5] and xb.dtype == np.float64  # as default_collate


def test_dicts_strings_and_ragged_examples_are_refused():
    with pytest.raises(TypeError, match="DataLoader: the dataset's examples are dicts; return "
                                        "a tuple"):
        list(DataLoader(Items({"x": 1.0}, {"x": 2.0}), batch_size=2))
    with pytest.raises(TypeError, match="DataLoader: field 1 of the examples holds <U1 values"):
        list(DataLoader(Items((1.0, "a"), (2.0, "b")), batch_size=2))
    with pytest.raises(ValueError, match=r"DataLoader: field 0 of examples \[0, 1\] has "
                                         r"different shapes \[\(2,\), \(3,\)\]"):
        list(DataLoader(Items((np.zeros(2), 0), (np.zeros(3), 1)), batch_size=2))
    with pytest.raises(ValueError, match=r"examples \[0, 1\] have different numbers of fields: "
                                         r"\[2, 1\]"):
        list(DataLoader(Items((1.0, 0), (2.0,)), batch_size=2))


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, None, True, "4"])
def test_batch_size_must_be_a_positive_int(batch_size):
    with pytest.raises(ValueError, match=f"DataLoader: batch_size must be a positive int, got "
                                         f"{batch_size!r}"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=batch_size)
    assert len(DataLoader(TensorDataset(np.zeros(3)), batch_size=np.int64(2))) == 2


def test_a_zero_d_array_is_refused():
    with pytest.raises(ValueError, match="TensorDataset: each array needs a first dimension"):
        TensorDataset(np.float32(3.0))


def test_batches_larger_than_the_data_and_an_empty_dataset():
    ds = TensorDataset(np.arange(5.0), np.arange(5))
    (_, yb), = list(DataLoader(ds, batch_size=10, shuffle=True, seed=0))
    assert sorted(yb.data.tolist()) == list(range(5))
    assert len(DataLoader(ds, batch_size=10, drop_last=True)) == 0
    assert list(DataLoader(ds, batch_size=10, drop_last=True)) == []
    empty = TensorDataset(np.zeros((0, 2)), np.zeros(0, np.int64))
    assert len(DataLoader(empty, batch_size=2, shuffle=True)) == 0
    assert list(DataLoader(empty, batch_size=2, shuffle=True, seed=0)) == []


def test_random_split_takes_fractions_as_pytorch_does_and_refuses_negative_lengths():
    one = TensorDataset(np.arange(1.0))
    assert [len(p) for p in random_split(one, [0.5, 0.5], seed=0)] == [1, 0]  # was refused
    assert [len(p) for p in random_split(TensorDataset(np.arange(5.0)), [1, 0])] == [5, 0]
    assert [len(p) for p in random_split(TensorDataset(np.arange(7.0)), [0.3, 0.3, 0.4])] \
        == [3, 2, 2]
    with pytest.raises(ValueError, match=r"random_split: lengths must be >= 0, got \[3, -1\]"):
        random_split(TensorDataset(np.arange(2.0)), [3, -1])  # gave subsets of 2 and 0
    with pytest.raises(ValueError, match="neither counts nor fractions"):
        random_split(TensorDataset(np.arange(2.0)), [1.5, 0.5])
