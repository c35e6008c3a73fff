"""Checkpoints: round trip, atomic writes, refusal of foreign files, bit-identical resume;
no temporary left by a killed save, permissions, symlinks, the folder flushed. The atomic-write
tests run for both formats (.npz, .safetensors): one path writes both."""

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


SUFFIXES = pytest.mark.parametrize("suffix", [".npz", ".safetensors"])


@SUFFIXES
def test_failed_save_leaves_previous_file_intact(tmp_path, suffix):
    path = tmp_path / f"c{suffix}"
    nn.save({"v": np.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="cannot save"):
        nn.save({"v": np.ones(3), "bad": object()}, path)

    with pytest.raises(TypeError, match="cannot be saved safely"):
        nn.save({"v": np.ones(3), "x": np.array([object()], dtype=object)}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


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


@SUFFIXES
def test_a_save_failing_at_the_flush_leaves_previous_file_intact(tmp_path, monkeypatch, suffix):
    path = tmp_path / f"c{suffix}"
    nn.save({"v": np.ones(3)}, path)
    before = path.read_bytes()

    def fsync_then_fail(fd):  # the bytes written, the disk full when they are flushed
        os.ftruncate(fd, os.fstat(fd).st_size // 2)
        raise OSError("No space left on device")

    monkeypatch.setattr(os, "fsync", fsync_then_fail)
    with pytest.raises(OSError, match="No space"):
        nn.save({"v": np.zeros(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    np.testing.assert_array_equal(nn.load(path)["v"], np.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


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


def test_a_checkpoint_written_before_the_float_entries_still_loads(tmp_path):
    """The manifest held NaN and infinities as Python's JSON extensions (NaN, Infinity) up to
    0.1.0; now as {"__float__": "nan"} (strict JSON). Both read."""
    path = tmp_path / "old.npz"
    np.savez(path, __manifest__=np.frombuffer(
        b'{"format": "autodiff-nn-checkpoint", "version": 1, "root": {"__dict__": '
        b'{"best": NaN, "lr": {"__list__": [Infinity, -Infinity]}, '
        b'"w": {"__array__": "a0"}}}}', np.uint8),
        a0=np.ones(2))
    back = nn.load(path)
    assert np.isnan(back["best"]) and back["lr"] == [np.inf, -np.inf]
    np.testing.assert_array_equal(back["w"], np.ones(2))


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


# -- temporaries, permissions, symlinks, durability ------------------------------------------

KILLED_SAVE = """
import os, sys, time
import numpy as np
import nn
real_replace = os.replace
def replace_after_a_pause(src, dst):  # the file is written; the kill comes before the rename
    print("written", flush=True)
    time.sleep(60)
    real_replace(src, dst)
os.replace = replace_after_a_pause
nn.save({"w": np.ones(2_000_000, np.float32)}, sys.argv[1])
"""


@SUFFIXES
def test_a_save_killed_midway_leaves_a_temporary_the_next_save_removes(tmp_path, suffix):
    import signal
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    path = tmp_path / f"c{suffix}"
    nn.save({"v": np.ones(3)}, path)
    before = path.read_bytes()
    child = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(path)],
                             stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": root})
    assert child.stdout.readline().strip() == "written"
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    (stale,) = [p.name for p in tmp_path.glob(f".c{suffix}.tmp-*{suffix}")]
    assert (tmp_path / stale).stat().st_size > 8_000_000 and path.read_bytes() == before
    nn.save({"v": np.zeros(3)}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    np.testing.assert_array_equal(nn.load(path)["v"], np.zeros(3))


@SUFFIXES
def test_only_stale_temporaries_of_the_same_target_are_removed(tmp_path, suffix):
    fcntl = pytest.importorskip("fcntl", reason="flock, which tells a live save, is POSIX only")

    s, other = suffix, {".npz": ".safetensors", ".safetensors": ".npz"}[suffix]
    keep = [f".d{s}.tmp-0123{s}", f".c{s}.tmp-9.txt", f"c{s}.tmp-1{s}", f".c{s}x.tmp-2{s}",
            f".c{other}.tmp-3{other}", f".c{s}.tmp-4{other}", "notes.txt"]
    for name in [*keep, f".c{s}.tmp-a1b2{s}", f".c{s}.tmp-ffff{s}"]:
        (tmp_path / name).write_bytes(b"junk")
    live = tmp_path / f".c{s}.tmp-live{s}"  # a save in progress elsewhere holds its lock
    live.write_bytes(b"half")
    with open(live, "rb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        nn.save({"v": np.ones(2)}, tmp_path / f"c{s}")
        assert live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*keep, live.name, f"c{s}"])
    nn.save({"v": np.ones(2)}, tmp_path / f"c{s}")  # its writer gone: now it is stale
    assert not live.exists()


@SUFFIXES
def test_a_saved_file_gets_the_umasks_permissions_or_keeps_the_replaced_files(tmp_path, suffix):
    a, b = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    old = os.umask(0o022)
    try:
        nn.save({"v": np.ones(2)}, a)
        assert a.stat().st_mode & 0o777 == 0o644
        os.umask(0o027)
        nn.save({"v": np.ones(2)}, b)
        assert b.stat().st_mode & 0o777 == 0o640
        os.chmod(a, 0o600)
        nn.save({"v": np.zeros(2)}, a)
        assert a.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


@SUFFIXES
def test_saving_through_a_symlink_replaces_the_file_it_points_to(tmp_path, suffix):
    real = tmp_path / "runs" / f"best{suffix}"
    real.parent.mkdir()
    nn.save({"v": np.ones(2)}, real)
    link = tmp_path / f"best{suffix}"
    link.symlink_to(os.path.join("runs", real.name))
    nn.save({"v": np.zeros(2)}, link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("runs", real.name)
    np.testing.assert_array_equal(nn.load(real)["v"], np.zeros(2))
    assert sorted(p.name for p in real.parent.iterdir()) == [real.name]  # temp beside target


@SUFFIXES
def test_the_folder_is_flushed_after_the_rename(tmp_path, monkeypatch, suffix):
    import stat

    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append(
        "folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("rename"),
                                                     real_replace(a, b))[1])
    nn.save({"v": np.ones(2)}, tmp_path / f"c{suffix}")
    assert events == ["file", "rename", "folder"]
