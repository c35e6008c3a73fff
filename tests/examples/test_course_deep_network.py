"""The course's L-layer network learns breast cancer (seeded, so the figures are stable)."""


def test_course_deep_network_learns_breast_cancer(load_example, capsys):
    result = load_example("course_deep_network").main(["--epochs", "60", "--print-every", "0"])
    assert result.test_accuracy > 0.93 and result.train_accuracy > 0.95
    assert "[30, 20, 7, 5, 1]" in capsys.readouterr().out


def test_course_deep_network_full_batch_with_dropout_and_decay(load_example):
    result = load_example("course_deep_network").main(
        ["--iterations", "40", "--batch-size", "0", "--dropout", "0.1", "--decay-rate", "0.01",
         "--lr", "0.1", "--print-every", "0"])
    assert result.test_accuracy > 0.9
