"""Damaged checkpoints: a flipped byte is refused with a ValueError naming the file, never loaded
as a silently wrong value nor a crash deep in zipfile. .npz has zip's CRC-32 per entry;
.safetensors has none, so the manifest carries one of the structure and every tensor."""

import json
import struct

import numpy as np
import pytest

import nn

CKPT = {"model": {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.array([1.5, -2.0])},
        "epoch": 7, "names": ["a", None]}


def saved(tmp_path, suffix):
    path = tmp_path / f"c{suffix}"
    nn.save(CKPT, path)
    return path, bytearray(path.read_bytes())


def split(data):
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(bytes(data[8:8 + n])), data[8 + n:]


def joined(header, body):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + bytes(body)


def test_a_flipped_tensor_byte_is_refused(tmp_path):
    path, data = saved(tmp_path, ".safetensors")
    data[-3] ^= 0x40  # inside the last tensor's bytes
    path.write_bytes(data)
    with pytest.raises(ValueError, match=r"c.safetensors: the tensors or the structure do not "
                                         r"match the checkpoint's CRC-32"):
        nn.load(path)


@pytest.mark.parametrize("edit", ["shape", "number"])
def test_an_edited_header_is_refused(tmp_path, edit):
    """A tensor's shape swapped for one of the same size, a digit of the structure changed:
    both still parse, and used to load as other values."""
    path, data = saved(tmp_path, ".safetensors")
    header, body = split(data)
    if edit == "shape":
        header["model.w"]["shape"] = [4, 3]
    else:
        meta = header["__metadata__"]
        meta["__manifest__"] = meta["__manifest__"].replace('"epoch": 7', '"epoch": 4')
    path.write_bytes(joined(header, body))
    with pytest.raises(ValueError, match="do not match the checkpoint's CRC-32"):
        nn.load(path)


def test_a_damaged_manifest_name_is_refused_not_loaded_as_a_foreign_file(tmp_path):
    path, data = saved(tmp_path, ".safetensors")
    header, body = split(data)
    header["__metadata__"]["__manifesT__"] = header["__metadata__"].pop("__manifest__")
    path.write_bytes(joined(header, body))
    with pytest.raises(ValueError, match="a checkpoint manifest under another key"):
        nn.load(path)


def test_a_damaged_checksum_field_is_refused(tmp_path):
    path, data = saved(tmp_path, ".safetensors")
    header, body = split(data)
    meta = header["__metadata__"]
    meta["__manifest__"] = meta["__manifest__"].replace('"crc32"', '"crc3z"')
    path.write_bytes(joined(header, body))
    with pytest.raises(ValueError, match=r"fields \['crc3z'\] that nn.save never writes"):
        nn.load(path)


def test_a_file_saved_before_the_checksum_still_loads(tmp_path):
    path, data = saved(tmp_path, ".safetensors")
    header, body = split(data)
    manifest = json.loads(header["__metadata__"]["__manifest__"])
    assert isinstance(manifest.pop("crc32"), int)
    header["__metadata__"]["__manifest__"] = json.dumps(manifest)
    path.write_bytes(joined(header, body))
    ckpt = nn.load(path)
    np.testing.assert_array_equal(ckpt["model"]["w"], CKPT["model"]["w"])
    assert ckpt["epoch"] == 7


def central_entry(data):
    at = bytes(data).index(b"PK\x01\x02")
    return at


@pytest.mark.parametrize("field, offset, value", [
    ("the encryption flag", 8, 0x0001), ("the strong-encryption flag", 8, 0x0040),
    ("an unknown compression method", 10, 99)])
def test_a_damaged_zip_directory_is_a_value_error(tmp_path, field, offset, value):
    """zipfile raises RuntimeError or NotImplementedError for these, which escaped nn.load."""
    path, data = saved(tmp_path, ".npz")
    at = central_entry(data) + offset
    old = int.from_bytes(data[at:at + 2], "little")
    data[at:at + 2] = ((old | value) if offset == 8 else value).to_bytes(2, "little")
    path.write_bytes(data)
    with pytest.raises(ValueError, match=r"c.npz is not a readable checkpoint"):
        nn.load(path)


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_every_single_byte_flip_is_refused_or_harmless(tmp_path, suffix):
    """Each byte of a small checkpoint flipped in turn (every 7th, to stay fast): a ValueError,
    or the very same checkpoint (a byte zip or safetensors does not read)."""
    path, data = saved(tmp_path, suffix)
    reference = repr(nn.load(path))
    for i in range(0, len(data), 7):
        damaged = bytearray(data)
        damaged[i] ^= 0x10
        path.write_bytes(damaged)
        try:
            got = nn.load(path)
        except ValueError:
            continue
        assert repr(got) == reference, f"byte {i} flipped loaded as {got!r}"
