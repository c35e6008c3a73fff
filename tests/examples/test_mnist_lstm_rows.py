"""The row-by-row MNIST LSTM example runs and learns (a tiny budget; the full run's accuracy
is quoted in docs/recurrent.md)."""

import pytest


@pytest.mark.slow
def test_mnist_lstm_rows_learns(load_example):
    result = load_example("mnist_lstm_rows").main(
        ["--epochs", "6", "--train-images", "2000", "--hidden", "32", "--lr", "1e-2"])
    assert result.test_accuracy > 0.7  # chance is 0.1; seed 0 gives 0.805
