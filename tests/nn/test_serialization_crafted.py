"""nn.load of crafted .npz checkpoints: an entry whose header announces more data than the
entry holds (a few bytes asking for terabytes), arrays of kinds nn.save never writes
(strings, records), and a manifest naming one key twice are each refused with a ValueError
naming the file, instead of a MemoryError, foreign arrays handed to load_state_dict, or a
value silently dropped."""

import io
import json
import struct
import zipfile

import numpy as np
import pytest

import nn


def manifest(root, raw=None):
    text = raw or json.dumps({"format": "autodiff-nn-checkpoint", "version": 1, "root": root})
    buf = io.BytesIO()
    np.save(buf, np.frombuffer(text.encode(), np.uint8))
    return buf.getvalue()


def npy_claiming(shape, body):
    """A .npy entry whose header says float64 of `shape`, followed by `body`."""
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}".encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + body


def npz(path, **entries):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name + ".npy", data)
    return path


def npy(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


ARRAY = {"__array__": "a0"}


@pytest.mark.parametrize("shape", [(10**12,), (3, 2**40), (2, 3)])
def test_an_entry_announcing_more_data_than_it_holds_is_refused(tmp_path, shape):
    path = npz(tmp_path / "big.npz", __manifest__=manifest(ARRAY),
               a0=npy_claiming(shape, b"\0" * 8))
    with pytest.raises(ValueError, match=r"big\.npz.*'a0'.*announces"):
        nn.load(path)


@pytest.mark.parametrize("array", [np.array(["hi"]), np.zeros(2, [("x", "<f4"), ("y", "<i4")]),
                                   np.array([b"raw"]), np.zeros(1, "V4")],
                         ids=["str", "record", "bytes", "void"])
def test_an_array_of_a_kind_save_never_writes_is_refused(tmp_path, array):
    path = npz(tmp_path / "kind.npz", __manifest__=manifest(ARRAY), a0=npy(array))
    with pytest.raises(ValueError, match=rf"kind\.npz.*'a0'.*{array.dtype}"):
        nn.load(path)


def test_the_arrays_save_writes_all_load(tmp_path):
    state = {str(dt): np.arange(3).astype(dt) for dt in
             ("bool", "uint8", "int8", "int64", "float16", "float32", ">f8", "complex64")}
    state["empty"] = np.zeros((0, 3))
    state["scalar"] = np.array(1.5)
    nn.save(state, tmp_path / "all.npz")
    back = nn.load(tmp_path / "all.npz")
    for k, v in state.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape
        np.testing.assert_array_equal(back[k], v)


@pytest.mark.parametrize("raw", [
    '{"format": "autodiff-nn-checkpoint", "version": 1, "root": {"__items__": [[1, 2], [1, 3]]}}',
    '{"format": "autodiff-nn-checkpoint", "version": 1, "root": {"__dict__": {"a": 1, "a": 2}}}',
    '{"format": "autodiff-nn-checkpoint", "version": 1, "version": 2, "root": null}',
])
def test_a_manifest_naming_a_key_twice_is_refused(tmp_path, raw):
    path = npz(tmp_path / "twice.npz", __manifest__=manifest(None, raw))
    with pytest.raises(ValueError, match=r"twice\.npz.*twice"):
        nn.load(path)


def test_an_entry_under_two_names_is_checked_where_it_is_read(tmp_path):
    """A zip holding `a0.npy` (a fine array) and `a0` (anything): NumPy reads `a0`, the check
    looked at `a0.npy`. `a0` as raw bytes loaded as a bytes object where the manifest names an
    array; `a0` as a header asking for 8 TB raised MemoryError."""
    man = manifest({"__dict__": {"w": ARRAY}})
    for other, match in ((b"not an array at all", "is not a NumPy array that nn.save writes"),
                         (npy_claiming((10**6, 10**6), b""), r"announces shape \(1000000, "
                                                             r"1000000\)")):
        path = tmp_path / "two.npz"
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("__manifest__.npy", man)
            z.writestr("a0.npy", npy(np.ones(2)))
            z.writestr("a0", other)
        with pytest.raises(ValueError, match=f"load: {path} was refused: entry 'a0' {match}"):
            nn.load(path)


def test_the_manifest_entry_is_checked_before_it_is_read(tmp_path):
    path = npz(tmp_path / "m.npz", __manifest__=npy_claiming((10**12,), b"{}"))
    with pytest.raises(ValueError, match=r"entry '__manifest__' announces shape \(1000000000000,"
                                         r"\) of float64"):
        nn.load(path)  # was a MemoryError: 8 TB asked for in a few bytes
