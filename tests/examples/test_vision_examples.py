import pytest

"""The vision examples run quickly and do what they claim."""


@pytest.mark.slow
def test_saliency(load_example, tmp_path):
    r = load_example("saliency").main(["--epochs", "1", "--limit", "600", "--count", "3",
                                       "--out", str(tmp_path / "s.png")])
    assert r["saliency"].shape == (3, 1, 28, 28) and r["saliency"].max() > 0
    assert (tmp_path / "s.png").stat().st_size > 1000


@pytest.mark.slow
def test_fgsm_lowers_accuracy(load_example, tmp_path):
    r = load_example("fgsm").main(["--epochs", "2", "--limit", "2000", "--count", "200",
                                   "--eps", "0", "0.25", "--out", str(tmp_path / "f.png")])
    clean, attacked = r["accuracy"]
    assert clean > 0.7 and attacked < clean - 0.2 and r["fooled"]


@pytest.mark.slow
def test_unet_segments(load_example, tmp_path):
    r = load_example("unet_shapes").main(["--epochs", "6", "--train", "128", "--size", "16",
                                          "--out", str(tmp_path / "u.png")])
    assert r["iou"] > 0.6
