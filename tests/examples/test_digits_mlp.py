import pytest

"""The digits MLP reaches 97% test accuracy in a few seconds (seeded)."""


@pytest.mark.slow
def test_digits_mlp_reaches_97_percent(load_example):
    result = load_example("digits_mlp").main([])
    assert result.test_accuracy >= 0.97
