"""nn.save / nn.load in .safetensors: round trips, the tensors' names, metadata, foreign files,
refusal of crafted and truncated files, the suffix rule. The atomic-write path shared with .npz
is tested for both formats in test_serialization.py."""

import json
import struct
import sys

import numpy as np
import pytest
import safetensors.numpy

import autodiff as ad
import nn


def assert_same(a, b):
    """Equal values of equal types, all the way down (arrays: dtype, shape, bits; an
    OrderedDict comes back a dict)."""
    assert type(a) is (dict if isinstance(b, dict) else type(b)), (a, b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def nested_state():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    opt = nn.optim.Adam(model.parameters(), lr=1e-3)
    (model(ad.randn(5, 3)) ** 2).mean().backward()
    opt.step()
    return {
        "model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 4, "name": "run",
        "ok": True, "none": None, "lr": [0.1, 0.01], "pair": (1, (2.5, "x")),
        "floats": [float("nan"), float("inf"), -float("inf"), -0.0, 1e-310],
        "big": 2**70, "rng": ad.get_rng_state(), "by_index": {0: np.ones(2), 7: "seven"},
        "dotted.key": {"a.b": np.arange(3), "a": {"b": np.zeros(1)}},  # same dotted path
        "arrays": [np.array(3.5), np.zeros((0, 4), np.float32), np.array([True, False]),
                   np.arange(4, dtype=np.uint16), np.ones(2, np.float16),
                   np.arange(-2, 2, dtype=np.int8), np.arange(6.0).reshape(2, 3).T,
                   np.arange(3, dtype=">i4")],
    }


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_nested_state_round_trips(tmp_path, suffix):
    state = nested_state()
    path = tmp_path / f"c{suffix}"
    nn.save(state, path)
    back = nn.load(path)
    if suffix == ".safetensors":  # little-endian by definition: the same values come back
        state["arrays"][-1] = state["arrays"][-1].astype("<i4")
    assert_same(back, state)
    assert all(a.flags.writeable for a in back["arrays"])


def test_tensors_are_named_by_their_dotted_path(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    nn.save(model.state_dict(), tmp_path / "m.safetensors")
    tensors = safetensors.numpy.load_file(tmp_path / "m.safetensors")
    assert sorted(tensors) == sorted(model.state_dict())  # what PyTorch's load_file sees
    nn.save(nested_state(), tmp_path / "c.safetensors")
    names = set(safetensors.numpy.load_file(tmp_path / "c.safetensors"))
    assert {"model.0.weight", "optimizer.state.0.exp_avg", "by_index.0", "arrays.6",
            "dotted.key.a.b", "dotted.key.a.b#2"} <= names
    nn.save(np.ones(2), tmp_path / "root.safetensors")
    assert set(safetensors.numpy.load_file(tmp_path / "root.safetensors")) == {"root"}
    header_key = {"__metadata__": np.ones(2), "x": {}}  # safetensors would write a broken file
    nn.save(header_key, tmp_path / "meta.safetensors")
    assert set(safetensors.numpy.load_file(tmp_path / "meta.safetensors")) == {"__metadata__#2"}
    assert_same(nn.load(tmp_path / "meta.safetensors"), header_key)


def header(path):
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def test_the_manifest_is_strict_json_in_the_metadata(tmp_path):
    nn.save({"w": np.ones(1), "floats": [float("nan"), float("inf")], "epoch": 3},
            tmp_path / "c.safetensors")
    meta = header(tmp_path / "c.safetensors")[0]["__metadata__"]
    assert set(meta) == {"__manifest__"}

    def refuse(token):
        raise AssertionError(f"{token} is not JSON")

    manifest = json.loads(meta["__manifest__"], parse_constant=refuse)
    assert manifest["format"] == "autodiff-nn-checkpoint" and manifest["version"] == 1
    assert manifest["root"]["__dict__"]["floats"] == {
        "__list__": [{"__float__": "nan"}, {"__float__": "inf"}]}


def test_metadata_entries_are_written_and_read_back(tmp_path):
    path = tmp_path / "w.safetensors"
    nn.save({"w": np.ones(2)}, path, metadata={"config": '{"model": "mlp"}', "epoch": "3"})
    assert nn.load_metadata(path) == {"config": '{"model": "mlp"}', "epoch": "3"}
    assert list(nn.load(path)) == ["w"]
    nn.save({"w": np.ones(2)}, path)
    assert nn.load_metadata(path) == {}


@pytest.mark.parametrize("metadata, error, match", [
    ({"epoch": 3}, TypeError, "metadata must map strings to strings, got 'epoch': 3"),
    ({1: "one"}, TypeError, "metadata must map strings to strings"),
    (["a"], TypeError, "metadata must map strings to strings, got list"),
    ({"__manifest__": "{}"}, ValueError, "'__manifest__' is the checkpoint's own"),
])
def test_bad_metadata_is_refused_before_writing(tmp_path, metadata, error, match):
    path = tmp_path / "w.safetensors"
    nn.save({"w": np.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(error, match=match):
        nn.save({"w": np.zeros(2)}, path, metadata=metadata)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [path.name]


def test_metadata_is_for_safetensors_only(tmp_path):
    with pytest.raises(ValueError, match=r"c.npz: metadata is for .safetensors files"):
        nn.save({"w": np.ones(2)}, tmp_path / "c.npz", metadata={"a": "b"})
    assert not (tmp_path / "c.npz").exists()
    nn.save({"w": np.ones(2)}, tmp_path / "c.npz")
    with pytest.raises(ValueError, match=r"load_metadata: .*c.npz: only .safetensors files"):
        nn.load_metadata(tmp_path / "c.npz")


def test_a_foreign_file_loads_as_its_tensors_by_name(tmp_path):
    path = tmp_path / "other.safetensors"
    tensors = {"b.weight": np.ones((2, 2), np.float32), "a": np.arange(3)}
    safetensors.numpy.save_file(tensors, path, metadata={"format": "pt"})
    back = nn.load(path)
    assert sorted(back) == ["a", "b.weight"]
    for k, v in tensors.items():
        assert_same(back[k], v)
    assert nn.load_metadata(path) == {"format": "pt"}


def test_arrays_safetensors_cannot_hold_are_refused_naming_them(tmp_path):
    path = tmp_path / "c.safetensors"
    nn.save({"w": np.ones(2)}, path)
    before = path.read_bytes()
    for dtype in (np.complex64, np.complex128, np.longdouble):
        with pytest.raises(TypeError, match=rf"cannot hold {np.dtype(dtype)} arrays \(at opt.z\); "
                                             r"save as \.npz"):
            nn.save({"w": np.ones(2), "opt": {"z": np.ones(1, dtype)}}, path)
    with pytest.raises(TypeError, match="cannot save an object of type object"):
        nn.save({"w": object()}, path)
    with pytest.raises(TypeError, match="dict keys must be strings or integers, got bool True"):
        nn.save({True: np.ones(1)}, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [path.name]


# -- crafted and truncated files -------------------------------------------------------------


def write_header(path, head, body=b""):
    text = json.dumps(head).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + body)


def good_file(tmp_path):
    path = tmp_path / "good.safetensors"
    nn.save({"w": np.ones(100, np.float32), "epoch": 2}, path)
    return path


def test_truncated_and_garbage_files_are_refused_naming_the_file(tmp_path):
    good = good_file(tmp_path).read_bytes()
    cases = {"cut": good[:len(good) // 2], "header-cut": good[:20], "empty": b"",
             "garbage": struct.pack("<Q", 12) + b"not a header" + b"\0" * 8,
             "huge": struct.pack("<Q", 2**60) + b"{}", "text": b"hello, I am not a checkpoint"}
    for name, data in cases.items():
        path = tmp_path / f"{name}.safetensors"
        path.write_bytes(data)
        with pytest.raises(ValueError, match=rf"load: .*{name}.safetensors is not a readable "
                                             r"\.safetensors file \(.+\)"):
            nn.load(path)


def test_a_header_claiming_bytes_beyond_the_file_is_refused(tmp_path):
    head, body = header(good_file(tmp_path))
    head["w"]["data_offsets"] = [0, 10**6]
    write_header(tmp_path / "beyond.safetensors", head, body)
    with pytest.raises(ValueError, match=r"beyond.safetensors is not a readable \.safetensors "
                                         r"file \(.+\)"):
        nn.load(tmp_path / "beyond.safetensors")
    head["w"]["data_offsets"] = [0, 400]
    head["w"]["shape"] = [1000]  # a shape that does not fit the bytes
    write_header(tmp_path / "shape.safetensors", head, body)
    with pytest.raises(ValueError, match=r"shape.safetensors is not a readable"):
        nn.load(tmp_path / "shape.safetensors")


@pytest.mark.parametrize("manifest, match", [
    ("not json {", r"the manifest is corrupt"),
    ("[" * 100_000, r"the manifest is corrupt"),
    (json.dumps({"format": "someone-else", "version": 1, "root": None}),
     r"is not an autodiff-nn checkpoint \(its manifest is not ours\)"),
    (json.dumps(["a", "list"]), r"is not an autodiff-nn checkpoint"),
    (json.dumps({"format": "autodiff-nn-checkpoint", "version": 9, "root": None}),
     r"has checkpoint version 9, this library reads 1"),
    (json.dumps({"format": "autodiff-nn-checkpoint", "version": 1}),
     r"the manifest holds no structure"),
    (json.dumps({"format": "autodiff-nn-checkpoint", "version": 1,
                 "root": {"__array__": "missing"}}), r"names array 'missing' which the file"),
    (json.dumps({"format": "autodiff-nn-checkpoint", "version": 1,
                 "root": {"__pickle__": "cos\nsystem"}}), r"holds an unknown entry"),
    (json.dumps({"format": "autodiff-nn-checkpoint", "version": 1,
                 "root": {"__list__": 5}}), r"holds an unknown entry \{'__list__': 5\}"),
    (json.dumps({"format": "autodiff-nn-checkpoint", "version": 1,
                 "root": {"__items__": [[1.5, 2]]}}), r"holds an unknown entry"),
    (json.dumps({"format": "autodiff-nn-checkpoint", "version": 1,
                 "root": {"__float__": "1e400"}}), r"holds an unknown entry"),
    (json.dumps({"format": "autodiff-nn-checkpoint", "version": 1,
                 "root": [1, 2]}), r"holds an unknown entry \[1, 2\]"),
], ids=["not-json", "too-deep", "not-ours", "a-list", "version", "no-root", "missing-array",
        "unknown-kind", "bad-list", "bad-key", "bad-float", "bare-list"])
def test_metadata_that_is_not_our_json_is_refused(tmp_path, manifest, match):
    head, body = header(good_file(tmp_path))
    head["__metadata__"]["__manifest__"] = manifest
    path = tmp_path / "crafted.safetensors"
    write_header(path, head, body)
    with pytest.raises(ValueError, match=rf"load: .*crafted.safetensors.*{match}"):
        nn.load(path)


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "none.safetensors")
    with pytest.raises(FileNotFoundError):
        nn.load_metadata(tmp_path / "none.safetensors")


# -- the suffix decides ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["model.pt", "model", "model.npz.bak", "model.safetensor"])
def test_an_unknown_suffix_is_refused(tmp_path, name):
    with pytest.raises(ValueError, match=rf"save: .*{name}: the suffix decides the format: "
                                         r"\.npz .* or \.safetensors"):
        nn.save({"w": np.ones(1)}, tmp_path / name)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / name).write_bytes(b"whatever")
    with pytest.raises(ValueError, match=rf"load: .*{name}: the suffix decides the format"):
        nn.load(tmp_path / name)


def test_the_suffix_decides_in_any_case_and_never_sniffs(tmp_path):
    nn.save({"w": np.ones(1)}, tmp_path / "A.SafeTensors")
    assert set(safetensors.numpy.load_file(tmp_path / "A.SafeTensors")) == {"w"}
    nn.save({"w": np.ones(1)}, tmp_path / "B.NPZ")
    (tmp_path / "npz-inside.safetensors").write_bytes((tmp_path / "B.NPZ").read_bytes())
    with pytest.raises(ValueError, match=r"not a readable \.safetensors file"):
        nn.load(tmp_path / "npz-inside.safetensors")


def test_without_the_safetensors_package_the_error_says_how_to_install_it(tmp_path,
                                                                          monkeypatch):
    path = tmp_path / "c.safetensors"
    nn.save({"w": np.ones(2)}, path)
    before = path.read_bytes()
    for name in [m for m in sys.modules if m == "safetensors" or m.startswith("safetensors.")]:
        monkeypatch.setitem(sys.modules, name, None)  # import safetensors fails
    for call in (lambda: nn.save({"w": np.zeros(2)}, path), lambda: nn.load(path),
                 lambda: nn.load_metadata(path)):
        with pytest.raises(ImportError, match=r"need the safetensors package, a dependency of "
                                              r"autodiff-nn: pip install 'safetensors>=0.4'"):
            call()
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [path.name]
    nn.save({"w": np.zeros(2)}, tmp_path / "c.npz")  # .npz needs nothing more
    np.testing.assert_array_equal(nn.load(tmp_path / "c.npz")["w"], np.zeros(2))


def test_importing_nn_does_not_import_safetensors():
    import subprocess
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    code = "import sys, nn; assert 'safetensors' not in sys.modules, 'imported'"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PYTHONPATH": root, "PATH": ""})
    assert r.returncode == 0, r.stderr
