"""The demo's define-by-run script trains: far above chance in a few hundred steps."""


def test_spiral_mlp_learns(load_example, capsys):
    result = load_example("spiral_mlp").main(["--iterations", "300", "--points", "100",
                                              "--print-every", "0"])
    assert result.train_accuracy > 0.85 and result.test_accuracy > 0.8
    assert "test accuracy" in capsys.readouterr().out
