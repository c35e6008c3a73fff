"""Dataset parsers on small files the tests write; the shipped datasets' shapes and splits."""

import gzip
import hashlib
import io
import struct
import tarfile

import numpy as np
import pytest

from nn.vision import datasets


def write_idx(path, array, magic_type=0x08, gz=True):
    header = bytes([0, 0, magic_type, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(">u1" if magic_type == 0x08 else ">i4").tobytes()
    (gzip.open if gz else open)(path, "wb").write(raw)
    return raw


def test_read_idx_round_trip_and_corruption(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", images)
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "a.gz"), images)
    ints = np.array([1, -2, 300], dtype=np.int32)
    write_idx(tmp_path / "b", ints, magic_type=0x0C, gz=False)
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "b"), ints)
    (tmp_path / "bad").write_bytes(b"\x12\x34\x08\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="magic"):
        datasets.read_idx(tmp_path / "bad")
    raw = write_idx(tmp_path / "c", images, gz=False)
    (tmp_path / "c").write_bytes(raw[:-5])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        datasets.read_idx(tmp_path / "c")
    (tmp_path / "d.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="not a readable IDX"):
        datasets.read_idx(tmp_path / "d.gz")


def test_full_mnist_from_a_cache_folder(tmp_path):
    rng = np.random.default_rng(0)
    files = {}
    folder = tmp_path / "mnist"
    folder.mkdir()
    parts = {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 28, 28)),
             "train-labels-idx1-ubyte.gz": np.arange(6) % 10,
             "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (4, 28, 28)),
             "t10k-labels-idx1-ubyte.gz": np.arange(4)}
    for name, arr in parts.items():
        write_idx(folder / name, arr.astype(np.uint8))
        files[name] = hashlib.md5((folder / name).read_bytes()).hexdigest()
    d = datasets._idx_dataset("mnist", files, [], tmp_path, False, [str(i) for i in range(10)])
    assert d.x_train.shape == (6, 1, 28, 28) and d.x_train.dtype == np.float32
    assert d.y_test.dtype == np.int64 and d.x_train.max() <= 1.0
    np.testing.assert_allclose(d.x_test[0, 0], parts["t10k-images-idx3-ubyte.gz"][0] / 255,
                               rtol=1e-6)


def test_offline_error_says_where_to_put_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTODIFF_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte.gz.*put it there"):
        datasets.mnist(download=False)
    (tmp_path / "mnist").mkdir(exist_ok=True)
    (tmp_path / "mnist" / "train-images-idx3-ubyte.gz").write_bytes(b"wrong")
    with pytest.raises(FileNotFoundError, match="wrong checksum"):
        datasets.mnist(download=False)


def test_cifar_binary_records(tmp_path):
    rng = np.random.default_rng(1)
    labels = np.array([3, 7], dtype=np.uint8)
    pixels = rng.integers(0, 256, (2, 3072), dtype=np.uint8)
    raw = np.concatenate([labels[:, None], pixels], axis=1).tobytes()
    x, y = datasets.read_cifar_batch(raw)
    assert x.shape == (2, 3, 32, 32) and y.tolist() == [3, 7]
    np.testing.assert_array_equal(x[1, 0].ravel(), pixels[1, :1024])
    with pytest.raises(ValueError, match="3,073-byte records"):
        datasets.read_cifar_batch(raw[:-1])
    with pytest.raises(ValueError, match="not a CIFAR-10 class"):
        datasets.read_cifar_batch(bytes([12]) + bytes(3072))
    archive = tmp_path / "cifar-10" / "cifar-10-binary.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        for name in ["data_batch_1.bin", "test_batch.bin"]:
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    original = datasets.CIFAR_MD5
    datasets.CIFAR_MD5 = md5
    try:
        d = datasets.cifar10(root=tmp_path, download=False)
    finally:
        datasets.CIFAR_MD5 = original
    assert d.x_train.shape == (2, 3, 32, 32) and d.classes[3] == "cat"


@pytest.mark.slow
def test_shipped_datasets():
    d = datasets.digits()
    assert d.x_train.shape[1:] == (1, 8, 8) and len(d.y_train) + len(d.y_test) == 1797
    m = datasets.mnist("5k")
    assert m.x_train.shape == (4000, 1, 28, 28) and m.x_test.shape == (1000, 1, 28, 28)
    assert np.bincount(m.y_test).tolist() == [100] * 10  # stratified; the file is sorted
    assert m.y_train[:20].tolist() != sorted(m.y_train[:20].tolist())  # shuffled
    assert m.x_train.min() >= 0.0 and m.x_train.max() <= 1.0 and m.x_train.dtype == np.float32
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'"):
        datasets.load("imagenet")
    with pytest.raises(ValueError, match="subset"):
        datasets.mnist("1k")


def test_read_idx_reads_no_more_than_the_header_claims(tmp_path, monkeypatch):
    """A gzip bomb (a 3-byte header claim followed by 64 MiB of zeros) is refused after
    reading the claim and one byte more, not decompressed whole; a file one byte too long is
    refused as well."""
    path = tmp_path / "bomb-idx1-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">BBBBI", 0, 0, 8, 1, 3) + bytes(3))
        for _ in range(64):
            f.write(bytes(1 << 20))
    asked = []
    real_open = gzip.open

    def counting_open(*args, **kwargs):
        f = real_open(*args, **kwargs)
        read = f.read

        def counted(n=-1):
            asked.append(n)
            return read(n)
        f.read = counted
        return f
    monkeypatch.setattr(datasets.gzip, "open", counting_open)
    with pytest.raises(ValueError, match=r"holds more than 3 data bytes but its header \(3,\)"):
        datasets.read_idx(path)
    assert -1 not in asked and sum(asked) == 4 + 4 + 4  # magic, one size, 3 bytes + 1
    raw = write_idx(tmp_path / "long", np.arange(6, dtype=np.uint8), gz=False)
    (tmp_path / "long").write_bytes(raw + b"\x00")
    with pytest.raises(ValueError, match="holds more than 6 data bytes"):
        datasets.read_idx(tmp_path / "long")
