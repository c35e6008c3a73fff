"""Checkpoints: round trip, atomic writes, refusal of foreign files, bit-identical resume."""

import os
import zipfile

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F


def test_round_trip_nested(tmp_path):
    obj = {"epoch": 4, "name": "run", "ok": True, "none": None, "lr": [0.1, 0.01],
           "pair": (1, 2), "w": np.arange(6, dtype=np.float32).reshape(2, 3),
           "t": ad.tensor([1.0, 2.0]), "labels": np.array([1, 2], np.int64),
           "rng": ad.get_rng_state(), "nested": {"a": {"b": np.ones(1)}}}
    path = tmp_path / "c.npz"
    nn.save(obj, path)
    back = nn.load(path)
    assert back["epoch"] == 4 and back["name"] == "run" and back["ok"] is True
    assert back["none"] is None and back["lr"] == [0.1, 0.01] and back["pair"] == (1, 2)
    np.testing.assert_array_equal(back["w"], obj["w"])
    assert back["w"].dtype == np.float32 and back["labels"].dtype == np.int64
    np.testing.assert_array_equal(back["t"], [1.0, 2.0])
    assert back["rng"] == obj["rng"]
    assert back["nested"]["a"]["b"].tolist() == [1.0]


def test_failed_save_leaves_previous_file_intact(tmp_path):
    path = tmp_path / "c.npz"
    nn.save({"v": np.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="cannot save"):
        nn.save({"v": np.ones(3), "bad": object()}, path)

    with pytest.raises(TypeError, match="cannot be saved safely"):
        nn.save({"v": np.ones(3), "x": np.array([object()], dtype=object)}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]  # no temporary left behind


def test_save_failing_midway_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    nn.save({"v": np.ones(3)}, path)
    before = path.read_bytes()
    real_savez = np.savez

    def savez_then_fail(f, **arrays):  # half a file on disk, then the disk fills up
        real_savez(f, **arrays)
        f.truncate(f.tell() // 2)
        raise OSError("No space left on device")

    monkeypatch.setattr(np, "savez", savez_then_fail)
    with pytest.raises(OSError, match="No space"):
        nn.save({"v": np.zeros(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    np.testing.assert_array_equal(nn.load(path)["v"], np.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]


def test_refuses_foreign_truncated_and_object_files(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, x=np.ones(2))
    with pytest.raises(ValueError, match="not an autodiff-nn checkpoint"):
        nn.load(plain)
    text = tmp_path / "text.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"not a readable checkpoint|refused"):
        nn.load(text)
    good = tmp_path / "good.npz"
    nn.save({"w": np.ones(100)}, good)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError):
        nn.load(cut)
    pickled = tmp_path / "obj.npz"
    np.savez(pickled, __manifest__=np.frombuffer(b'{"format": "autodiff-nn-checkpoint", '
                                                  b'"version": 1, "root": {"__array__": "a0"}}',
                                                  dtype=np.uint8),
             a0=np.array([{"evil": 1}], dtype=object))
    assert zipfile.is_zipfile(pickled)
    with pytest.raises(ValueError, match=r"refused|pickle"):
        nn.load(pickled)


def train(model, opt, loader, epochs):
    for _ in range(epochs):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()


def make_run(seed=0):
    """The same data every time; `seed` sets the initialization (a resume overwrites it)."""
    ad.manual_seed(seed)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 2))
    opt = nn.optim.Adam(model.parameters(), lr=1e-2)
    loader = nn.data.DataLoader(nn.data.TensorDataset(X, y), batch_size=8, shuffle=True, seed=1)
    return model, opt, loader


def test_resumed_run_is_bit_identical(tmp_path):
    model, opt, loader = make_run()
    train(model, opt, loader, 4)
    reference = model.state_dict()

    model, opt, loader = make_run()
    train(model, opt, loader, 2)
    path = tmp_path / "ckpt.npz"
    nn.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 2,
             "rng": ad.get_rng_state(), "loader": loader.state_dict()}, path)
    ad.manual_seed(123)  # disturb everything
    model2, opt2, loader2 = make_run(seed=7)
    ck = nn.load(path)
    model2.load_state_dict(ck["model"])
    opt2.load_state_dict(ck["optimizer"])
    ad.set_rng_state(ck["rng"])
    loader2.load_state_dict(ck["loader"])
    train(model2, opt2, loader2, 4 - ck["epoch"])
    for k, v in reference.items():
        np.testing.assert_array_equal(model2.state_dict()[k], v)


def test_seeded_runs_are_reproducible():
    a, opt, loader = make_run()
    train(a, opt, loader, 2)
    b, opt, loader = make_run()
    train(b, opt, loader, 2)
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[k], v)
    assert os.sep  # paths are plain strings or PathLike
