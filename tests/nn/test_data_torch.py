"""DataLoader and random_split against PyTorch's: the number of batches and each batch's size
(with and without drop_last, shuffled or not), and the sizes random_split gives fractions."""

import itertools

import numpy as np
import pytest

from nn.data import DataLoader, TensorDataset, random_split

torch = pytest.importorskip("torch", reason="comparison with PyTorch's DataLoader")


def test_batch_sizes_and_len_equal_pytorchs():
    for n, batch_size, drop_last, shuffle in itertools.product(
            [0, 1, 2, 5, 7, 16], [1, 2, 3, 5, 16, 20], [False, True], [False, True]):
        if n == 0 and shuffle:
            continue  # PyTorch's RandomSampler refuses an empty dataset; we give no batches
        ours = DataLoader(TensorDataset(np.arange(float(n))), batch_size, shuffle=shuffle,
                          drop_last=drop_last, seed=0)
        theirs = torch.utils.data.DataLoader(torch.arange(float(n)), batch_size,
                                             shuffle=shuffle, drop_last=drop_last)
        where = (n, batch_size, drop_last, shuffle)
        assert len(ours) == len(theirs), where
        assert [len(x) for x, in ours] == [len(x) for x in theirs], where
        if not shuffle:
            assert [x.data.tolist() for x, in ours] == [x.tolist() for x in theirs], where


@pytest.mark.filterwarnings("ignore:Length of split:UserWarning")
def test_random_split_sizes_equal_pytorchs():
    fractions = [[0.5, 0.5], [0.7, 0.3], [0.1, 0.2, 0.7], [1 / 3] * 3, [1.0, 0.0], [0.25] * 4]
    for n, lengths in itertools.product([1, 2, 5, 10, 11, 97], fractions):
        want = [len(s) for s in torch.utils.data.random_split(range(n), lengths)]
        got = [len(s) for s in random_split(TensorDataset(np.arange(n)), lengths, seed=0)]
        assert got == want, (n, lengths)
