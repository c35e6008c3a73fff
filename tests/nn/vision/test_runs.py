"""A run never overwrites another's results: a new folder per run by default, `latest` pointing
at it; an explicit folder holding results is refused (test_cli.py) unless --overwrite, which
replaces only the outputs a run writes."""

import os
from pathlib import Path

import pytest

import nn
from nn.vision import cli, runs, train

FLAGS = ["--model", "mlp", "--data", "digits", "--limit", "100", "--epochs", "1",
         "--no-progress"]


@pytest.mark.slow
def test_default_out_gives_each_run_a_new_folder_and_latest_follows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runs, "_now", lambda: "2026-12-01T14-03-22")
    first = cli.main(["train", *FLAGS, "--lr", "0.05"])
    kept = (tmp_path / first["run_dir"] / "best.npz").read_bytes()
    second = cli.main(["train", *FLAGS, "--lr", "0.01"])  # the same second
    assert (first["run_dir"], second["run_dir"]) == (
        os.path.join("runs", "train", "2026-12-01T14-03-22"),
        os.path.join("runs", "train", "2026-12-01T14-03-22-2"))
    assert (tmp_path / first["run_dir"] / "best.npz").read_bytes() == kept
    latest = tmp_path / "runs" / "train" / "latest"
    assert latest.is_symlink() and os.readlink(latest) == "2026-12-01T14-03-22-2"
    assert nn.load(latest / "best.npz")["config"]["lr"] == 0.01
    resumed = cli.build_parser().parse_args(["train", "--resume", "runs/train/latest"])
    assert resumed.resume == second["run_dir"]  # the folder itself: `latest` may move on


def test_new_run_dir_counts_up_and_latest_is_a_file_where_links_cannot_be_made(tmp_path,
                                                                                monkeypatch):
    def no_symlinks(*args, **kwargs):
        raise OSError("symbolic links are not supported here")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    made = [runs.new_run_dir(tmp_path, stamp="t") for _ in range(3)]
    assert [p.name for p in made] == ["t", "t-2", "t-3"]
    latest = tmp_path / "latest"
    assert latest.is_file() and latest.read_text() == "t-3\n"
    assert runs.resolve_run_dir(latest) == tmp_path / "t-3"
    (made[2] / "last.npz").write_bytes(b"")
    assert cli.run_folder(str(latest)) == str(tmp_path / "t-3")  # --resume runs/train/latest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "t", "t-2", "t-3"]


def test_a_folder_named_latest_is_left_alone(tmp_path, capsys):
    (tmp_path / "latest").mkdir()
    (tmp_path / "latest" / "mine.txt").write_text("mine")
    runs.new_run_dir(tmp_path, stamp="t")
    assert (tmp_path / "latest" / "mine.txt").read_text() == "mine"
    assert "could not point" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "t"]


def test_overwrite_replaces_the_outputs_of_a_run_and_nothing_else(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    for name in ("best.npz", "best.safetensors", "last.npz", "graph.dot", "curves.png"):
        (out / name).write_bytes(b"the previous run's")
    (out / "notes.txt").write_text("mine")
    metrics = cli.main(["train", *FLAGS, "--out", str(out), "--overwrite"])
    assert (out / "notes.txt").read_text() == "mine"
    assert nn.load(out / "best.npz")["epoch"] == 1 and metrics["status"] == "finished"
    assert nn.load_metadata(out / "best.safetensors")["epoch"] == "1"
    for name in ("last.npz", "graph.dot", "curves.png"):  # graph.dot: gone if graph.svg made
        assert not (out / name).exists() or (out / name).read_bytes() != b"the previous run's"


def test_train_itself_refuses_a_folder_holding_results(tmp_path):
    (tmp_path / "last.npz").write_bytes(b"a run")
    with pytest.raises(FileExistsError, match=r"already holds results \(last.npz\)"):
        train.train(train.train_args(model="mlp", data="digits", limit=50, epochs=1,
                                     out=str(tmp_path)))
    assert (tmp_path / "last.npz").read_bytes() == b"a run"


def test_results_and_clear_results_touch_only_a_runs_outputs(tmp_path):
    assert runs.results_in(tmp_path) == []
    for name in ("metrics.json", "confusion.png", "data.npz"):
        (tmp_path / name).write_text("x")
    assert runs.results_in(tmp_path) == ["metrics.json"]
    assert runs.clear_results(tmp_path) == ["metrics.json", "confusion.png"]
    assert [p.name for p in tmp_path.iterdir()] == ["data.npz"]
    assert runs.resolve_run_dir(Path(tmp_path / "data.npz")) == tmp_path / "data.npz"
    (tmp_path / "best.safetensors").write_text("x")  # the weights alone are a run's too
    assert runs.results_in(tmp_path) == ["best.safetensors"]
    assert runs.clear_results(tmp_path) == ["best.safetensors"]


def test_write_text_replaces_whole_or_not_at_all(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    runs.write_text(path, "old")

    def disk_full(src, dst):
        raise OSError("No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        runs.write_text(path, "new")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_write_text_flushes_the_file_then_renames_then_flushes_the_folder(tmp_path,
                                                                          monkeypatch):
    """metrics.json survives a power cut as the checkpoints beside it do (it was renamed
    unflushed: after a crash it could be empty, the previous one gone)."""
    import stat

    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append(
        "folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else f"file of {os.fstat(fd).st_size}"),
        real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("rename"),
                                                     real_replace(a, b))[1])
    runs.write_text(tmp_path / "metrics.json", '{"é": 1}')
    assert events == ["file of 9", "rename", "folder"]  # 9 bytes: é is two
    assert (tmp_path / "metrics.json").read_text(encoding="utf-8") == '{"é": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_an_exported_model_onnx_is_a_result_overwrite_removes(tmp_path):
    """`export` writes model.onnx beside best.npz; --overwrite left the previous run's there,
    beside the new run's checkpoints, and a folder holding one was taken as empty."""
    (tmp_path / "model.onnx").write_bytes(b"the previous run's model")
    assert runs.results_in(tmp_path) == ["model.onnx"]
    with pytest.raises(FileExistsError, match=r"already holds results \(model.onnx\)"):
        train.train(train.train_args(model="mlp", data="digits", limit=50, epochs=1,
                                     out=str(tmp_path)))
    assert runs.clear_results(tmp_path) == ["model.onnx"] and list(tmp_path.iterdir()) == []
