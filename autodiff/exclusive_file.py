"""A new file of a random name, created exclusively: where a write that replaces a file
starts (the drawing writer's and `nn.save`'s temporaries beside their target).

>>> import os, tempfile
>>> from autodiff.exclusive_file import create_exclusive
>>> fd, path = create_exclusive(os.path.join(tempfile.mkdtemp(), ".x.tmp-"), ".npz")
>>> os.close(fd); os.path.basename(path).startswith(".x.tmp-"), path.endswith(".npz")
(True, True)
"""

from __future__ import annotations

import os
import secrets

__all__ = ["create_exclusive"]


def create_exclusive(prefix: str, suffix: str) -> tuple[int, str]:
    """Create `{prefix}<12 random hex digits>{suffix}` (O_EXCL: never a file that exists) and
    return its open descriptor (write-only) and path. Mode 0666 through the umask, as any new
    file; mkstemp's 0600 would make the outputs unlike every other file."""
    while True:
        path = f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            return os.open(path, flags, 0o666), path
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue
