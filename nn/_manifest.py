"""A checkpoint's structure as JSON (its manifest), its arrays apart: shared by the .npz and
.safetensors formats of `nn.save` / `nn.load`.

`encode` turns any nesting of dicts, lists and tuples with array, tensor, number, string,
boolean and None leaves into plain JSON, putting each array in `arrays` under a name and
leaving `{"__array__": name}` in its place. Every node says what it was: `{"__dict__": {...}}`
(string keys), `{"__items__": [[key, value], ...]}` (a dict with an integer key), `{"__list__":
[...]}`, `{"__tuple__": [...]}`, `{"__float__": "nan"}` (NaN and infinities, so the manifest is
strict JSON that any parser reads). `decode` undoes it, refusing with a ValueError anything
`encode` does not make.

>>> import numpy as np
>>> from nn._manifest import Arrays, decode, encode
>>> arrays = Arrays()
>>> node = encode({"w": np.ones(2), 3: (1.5, float("nan"))}, arrays)
>>> node
{'__items__': [['w', {'__array__': 'a0'}], [3, {'__tuple__': [1.5, {'__float__': 'nan'}]}]]}
>>> decode(node, arrays, "x.npz")
{'w': array([1., 1.]), 3: (1.5, nan)}
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from autodiff import Tensor

FORMAT = "autodiff-nn-checkpoint"
VERSION = 1
MANIFEST = "__manifest__"  # the manifest's name in a file: an .npz entry, a .safetensors key
_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class Arrays(dict[str, np.ndarray]):
    """A checkpoint's arrays by entry name: `a0`, `a1`, ... in the order met (.npz).

    >>> import numpy as np
    >>> from nn._manifest import Arrays
    >>> Arrays().add(("model", "weight"), np.ones(1))
    'a0'
    """

    def add(self, path: tuple[str, ...], array: np.ndarray) -> str:
        """Keep `array` (found at `path` in the structure); return the name it is kept under."""
        name = f"a{len(self)}"
        self[name] = array
        return name


def encode(obj: Any, arrays: Arrays, path: tuple[str, ...] = (),
           within: frozenset[int] = frozenset()) -> Any:
    """`obj` as JSON-ready nodes, its arrays added to `arrays`; TypeError for anything else,
    and for a container holding itself (`within`: the containers `obj` is inside)."""
    if isinstance(obj, dict | list | tuple):
        if id(obj) in within:
            raise TypeError(f"save: the {type(obj).__name__} at "
                            f"{'.'.join(path) or 'the root'} holds itself (a cycle): a "
                            "checkpoint is a tree")
        within = within | {id(obj)}
    if isinstance(obj, Tensor):
        obj = obj.data
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biufc":
            raise TypeError(f"save: arrays of dtype {obj.dtype} cannot be saved safely")
        return {"__array__": arrays.add(path, obj)}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return {"__float__": str(obj)}  # 'nan', 'inf', '-inf'
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, dict):
        return _encode_dict(obj, arrays, path, within)
    if isinstance(obj, list | tuple):
        return {"__list__" if isinstance(obj, list) else "__tuple__":
                [encode(v, arrays, (*path, str(i)), within) for i, v in enumerate(obj)]}
    raise TypeError(f"save: cannot save an object of type {type(obj).__name__} (only dicts, "
                    "lists, tuples, arrays, tensors, numbers, strings, booleans and None)")


def _encode_dict(obj: dict[Any, Any], arrays: Arrays, path: tuple[str, ...],
                 within: frozenset[int]) -> Any:
    keys = [k.item() if isinstance(k, np.integer) else k for k in obj]
    for k in keys:
        if not isinstance(k, str | int) or isinstance(k, bool):
            raise TypeError(f"save: dict keys must be strings or integers, got "
                            f"{type(k).__name__} {k!r}")
    values = [encode(v, arrays, (*path, str(k)), within) for k, v in zip(keys, obj.values())]
    if all(isinstance(k, str) for k in keys):
        return {"__dict__": dict(zip(keys, values))}
    return {"__items__": [[k, v] for k, v in zip(keys, values)]}


def dumps(obj: Any, arrays: Arrays, *, checksum: bool = False) -> str:
    """The manifest of `obj` (a format marker, a version and its encoded structure; with
    `checksum`, the `crc32_of` the structure and the arrays) as strict JSON text, its arrays
    added to `arrays`."""
    root = encode(obj, arrays)
    manifest = {"format": FORMAT, "version": VERSION, "root": root}
    if checksum:
        manifest["crc32"] = crc32_of(root, arrays)
    return json.dumps(manifest, allow_nan=False)


def crc32_of(root: Any, arrays: Mapping[str, np.ndarray]) -> int:
    """CRC-32 of an encoded structure (its JSON text) and of every array: its name, dtype, shape
    and little-endian bytes, by name. A format without checksums of its own (.safetensors)
    keeps it in the manifest, so a flipped byte is refused rather than loaded as a wrong value.

    >>> import numpy as np
    >>> from nn._manifest import crc32_of
    >>> a = np.arange(3, dtype=np.float32)
    >>> crc32_of({}, {"w": a}) == crc32_of({}, {"w": a.astype(">f4")})
    True
    >>> crc32_of({}, {"w": a}) == crc32_of({}, {"w": a.reshape(1, 3)})
    False
    """
    crc = zlib.crc32(json.dumps(root, allow_nan=False).encode())
    for name in sorted(arrays):
        a = arrays[name]
        crc = zlib.crc32(f"{name}:{a.dtype.name}:{a.shape}".encode(), crc)
        little = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
        crc = zlib.crc32(little.reshape(-1).view(np.uint8), crc)
    return crc


def root_of(text: str | bytes, path: str) -> Any:
    """The encoded structure a manifest's text holds, or a ValueError naming `path` and what is
    wrong: not JSON, not ours, another version."""
    return manifest_of(text, path)["root"]


def manifest_of(text: str | bytes, path: str) -> dict[str, Any]:
    """The whole manifest a manifest's text holds (its fields checked), or a ValueError naming
    `path` and what is wrong: not JSON, not ours, another version, fields `dumps` never writes
    (a damaged name would otherwise skip the checksum)."""
    try:
        manifest = json.loads(text, object_pairs_hook=_once_each)
    except _Repeated as e:
        raise ValueError(f"load: {path}: the manifest names the key {e.args[0]!r} twice "
                         "(crafted or edited?)") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"load: {path}: the manifest is corrupt ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"load: {path} is not an autodiff-nn checkpoint (its manifest is not "
                         "ours)")
    if manifest.get("version") != VERSION:
        raise ValueError(f"load: {path} has checkpoint version {manifest.get('version')}, this "
                         f"library reads {VERSION}")
    if "root" not in manifest:
        raise ValueError(f"load: {path}: the manifest holds no structure (no 'root')")
    unknown = sorted(set(manifest) - {"format", "version", "root", "crc32"})
    if unknown:
        raise ValueError(f"load: {path}: the manifest holds fields {unknown} that nn.save never "
                         "writes (corrupted or edited?)")
    return manifest


def decode(node: Any, arrays: Mapping[str, np.ndarray], path: str) -> Any:
    """The object `node` describes, its arrays taken from `arrays`; a ValueError naming `path`
    for any node `encode` does not make (a crafted or damaged manifest)."""
    if node is None or isinstance(node, bool | int | float | str):
        return node
    if not (isinstance(node, dict) and len(node) == 1):
        raise ValueError(f"load: {path}: the manifest holds an unknown entry {_short(node)}")
    ((kind, body),) = node.items()
    if kind == "__array__" and isinstance(body, str):
        if body not in arrays:
            raise ValueError(f"load: {path}: the manifest names array {body!r} which the file "
                             "does not hold (truncated or edited?)")
        return arrays[body]
    if kind == "__float__" and body in _FLOATS:
        return _FLOATS[body]
    if kind == "__dict__" and isinstance(body, dict):
        return {k: decode(v, arrays, path) for k, v in body.items()}
    if kind == "__items__" and isinstance(body, list) and all(_is_item(i) for i in body):
        keys = [k for k, _ in body]
        if len(set(keys)) < len(keys):
            twice = next(k for i, k in enumerate(keys) if k in keys[:i])
            raise ValueError(f"load: {path}: the manifest names the key {twice!r} twice "
                             "(crafted or edited?)")
        return {k: decode(v, arrays, path) for k, v in body}
    if kind in ("__list__", "__tuple__") and isinstance(body, list):
        items = [decode(v, arrays, path) for v in body]
        return items if kind == "__list__" else tuple(items)
    raise ValueError(f"load: {path}: the manifest holds an unknown entry {_short(node)}")


class _Repeated(Exception):
    """A JSON object of the manifest names a key twice (json.loads keeps the last silently)."""


def _once_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) < len(keys):
        raise _Repeated(next(k for i, k in enumerate(keys) if k in keys[:i]))
    return dict(pairs)


def _is_item(item: Any) -> bool:
    return (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str | int)
            and not isinstance(item[0], bool))


def _short(node: Any) -> str:
    text = repr(node)
    return text if len(text) <= 60 else text[:57] + "..."
