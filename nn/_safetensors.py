"""The .safetensors format of `nn.save` / `nn.load`, through the `safetensors` package's NumPy
API (imported here only, when a .safetensors file is written or read).

Arrays are the file's tensors, named by their dotted path in the structure: a state dict's
`"conv1.weight"` stays `conv1.weight`, `{"model": {"fc.bias": b}}` gives `model.fc.bias`, list
items and integer keys their number (`state.0.exp_avg`). A path that names two arrays (keys
holding dots can make one) gets `#2`, `#3`, ... after it, and so does `__metadata__` (the
header's own key). Everything else (numbers, strings, booleans, None, the structure itself) is
the JSON manifest, under the `__manifest__` key of the file's metadata (safetensors metadata
maps text to text); a caller's own `metadata` entries sit beside it. The format has no checksum
(.npz has zip's CRC-32 per entry), so the manifest holds one, `crc32`, of the structure and
every tensor (name, dtype, shape, bytes): a damaged file is refused, not loaded with a wrong
value (files written before it existed load unchecked). A file without our manifest
(PyTorch's `safetensors.torch.save_file`, any other tool) loads as a flat dict of its tensors
by name: a state dict.

>>> import numpy as np
>>> from nn._safetensors import SafetensorsArrays
>>> arrays = SafetensorsArrays()
>>> arrays.add(("model", "fc.bias"), np.ones(1)), arrays.add(("model.fc", "bias"), np.ones(1))
('model.fc.bias', 'model.fc.bias#2')
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType
from typing import Any, BinaryIO

import numpy as np

from nn._manifest import FORMAT, MANIFEST, Arrays, crc32_of, decode, dumps, manifest_of

# what safetensors' NumPy API stores and reads back from version 0.4 on: no bfloat16 nor
# float8 (NumPy has none), no complex numbers (0.4 and 0.5 have none)
DTYPES = {"BOOL": "bool", "U8": "uint8", "I8": "int8", "U16": "uint16", "I16": "int16",
          "U32": "uint32", "I32": "int32", "U64": "uint64", "I64": "int64", "F16": "float16",
          "F32": "float32", "F64": "float64"}


def safetensors_module() -> ModuleType:
    """`safetensors` with its NumPy API, or an ImportError saying how to install it.

    >>> from nn._safetensors import safetensors_module
    >>> safetensors_module().numpy.__name__
    'safetensors.numpy'
    """
    try:
        import safetensors
        import safetensors.numpy
    except ImportError:
        raise ImportError("nn.save / nn.load of a .safetensors file need the safetensors "
                          "package, a dependency of autodiff-nn: pip install 'safetensors>=0.4' "
                          "(or reinstall autodiff-nn)") from None
    return safetensors


class SafetensorsArrays(Arrays):
    """A checkpoint's arrays named by their dotted path in the structure."""

    def add(self, path: tuple[str, ...], array: np.ndarray) -> str:
        if array.dtype.name not in DTYPES.values():
            raise TypeError(f"save: a .safetensors file cannot hold {array.dtype} arrays (at "
                            f"{'.'.join(path) or 'the root'}); save as .npz, or convert it")
        base = ".".join(path) or "root"
        name, n = base, 1
        while name in self or name == "__metadata__":  # the header's own key: not a tensor's
            n += 1
            name = f"{base}#{n}"
        self[name] = array if array.flags.c_contiguous else array.copy(order="C")
        return name


def writer(obj: Any, metadata: Mapping[str, str] | None) -> Callable[[BinaryIO], None]:
    """A function writing `obj` as .safetensors into an open binary file; raises first (before
    any file is touched) if `obj` or `metadata` cannot be saved (a ValueError when the header
    would pass the format's limit, 100 MB)."""
    st = safetensors_module()
    arrays = SafetensorsArrays()
    header = {**checked_metadata(metadata), MANIFEST: dumps(obj, arrays, checksum=True)}
    try:
        data = st.numpy.save(dict(arrays), metadata=header)
    except st.SafetensorError as e:  # the header (the manifest) over the format's 100 MB
        size = sum(len(k) + len(v) for k, v in header.items())
        raise ValueError(f"save: a .safetensors file cannot hold this checkpoint ({e}; its "
                         f"metadata, numbers and structure outside arrays, is {size:,} "
                         "characters): keep long lists of numbers as arrays (np.asarray), or "
                         "save as .npz") from None

    def write(f: BinaryIO) -> None:
        f.write(data)

    return write


def checked_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """`metadata` as a dict of text to text, or a TypeError / ValueError saying what is not."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise TypeError(f"save: metadata must map strings to strings, got "
                        f"{type(metadata).__name__}")
    for k, v in metadata.items():
        if not (isinstance(k, str) and isinstance(v, str)):
            raise TypeError(f"save: metadata must map strings to strings, got {k!r}: {v!r} "
                            "(json.dumps a structure first)")
    if MANIFEST in metadata:
        raise ValueError(f"save: the metadata key {MANIFEST!r} is the checkpoint's own")
    return dict(metadata)


@contextlib.contextmanager
def _opened(path: str) -> Iterator[Any]:
    """safe_open(path), any failure to read it a ValueError naming the file (a missing file
    stays FileNotFoundError)."""
    st = safetensors_module()
    try:
        with st.safe_open(path, framework="numpy") as f:
            yield f
    except st.SafetensorError as e:
        raise ValueError(f"load: {path} is not a readable .safetensors file ({e})") from None
    except OSError as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(f"load: {path} is not a readable .safetensors file ({e})") from None


def load(path: str) -> Any:
    """The object an `nn.save`d .safetensors file holds; a foreign file's tensors by name."""
    with _opened(path) as f:
        header = f.metadata() or {}
        arrays = {name: _tensor(f, name, path) for name in f.keys()}  # noqa: SIM118 (not a dict)
    if MANIFEST not in header:
        if any(FORMAT in v for v in header.values()):  # our manifest under a damaged key
            raise ValueError(f"load: {path}: the metadata holds a checkpoint manifest under "
                             f"another key than {MANIFEST!r} (corrupted or edited?)")
        return arrays
    manifest = manifest_of(header[MANIFEST], path)
    if "crc32" in manifest and manifest["crc32"] != crc32_of(manifest["root"], arrays):
        raise ValueError(f"load: {path}: the tensors or the structure do not match the "
                         "checkpoint's CRC-32 (the file was corrupted or edited after saving)")
    return decode(manifest["root"], arrays, path)


def _tensor(f: Any, name: str, path: str) -> np.ndarray:
    dtype = f.get_slice(name).get_dtype()
    if dtype not in DTYPES:
        raise ValueError(f"load: {path}: tensor {name!r} is {dtype}, which nn.load does not "
                         f"read (it reads {', '.join(DTYPES)}); convert it before saving")
    array = f.get_tensor(name)
    return array if array.flags.writeable else array.copy()


def metadata(path: str) -> dict[str, str]:
    """The text entries of a .safetensors file's metadata, the checkpoint's manifest aside."""
    with _opened(path) as f:
        header = f.metadata() or {}
    return {k: v for k, v in header.items() if k != MANIFEST}

