"""examples/vit_mnist.py runs on a tiny budget and writes its attention-map grid."""

import pytest


@pytest.mark.slow
def test_vit_mnist_trains_and_draws(load_example, tmp_path):
    out = tmp_path / "attention.png"
    r = load_example("vit_mnist").main(["--epochs", "1", "--limit", "128", "--count", "2",
                                        "--out", str(out)])
    assert 0.0 <= r["accuracy"] <= 1.0 and out.stat().st_size > 5000
    assert r["last"].shape == (2, 4, 16) and r["rollout"].shape == (2, 16)
    # attention weights over the patches: the class token's own share is left out
    for maps in (r["last"], r["rollout"]):
        assert (maps >= 0).all() and (maps.sum(-1) <= 1 + 1e-5).all() and maps.max() > 0
