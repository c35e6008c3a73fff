"""Downloads, on local files through file:// URLs (no network): a mirror with the wrong bytes, a
partial download, an interrupted one and a corrupt cached file are never kept or trusted; and a
crafted IDX header whose sizes overflow 64 bits is refused by name."""

import hashlib
import struct
import urllib.error
import urllib.request

import pytest

from nn.vision import datasets

GOOD = b"the right bytes"
MD5 = hashlib.md5(GOOD).hexdigest()


@pytest.fixture
def mirrors(tmp_path):
    """A mirror with the wrong file, one with the right one, and a folder to fetch into."""
    bad, good = tmp_path / "bad", tmp_path / "good"
    for folder, content in ((bad, b"other bytes"), (good, GOOD)):
        folder.mkdir()
        (folder / "f.bin").write_bytes(content)
    return bad.as_uri() + "/", good.as_uri() + "/", tmp_path / "cache"


def leftovers(root):
    return sorted(p.name for p in (root / "toy").iterdir())


def test_a_mirror_with_the_wrong_bytes_is_skipped(mirrors):
    bad, good, root = mirrors
    paths = datasets.fetch("toy", {"f.bin": MD5}, [bad, good], root)
    assert paths["f.bin"].read_bytes() == GOOD and leftovers(root) == ["f.bin"]
    with pytest.raises(FileNotFoundError, match=r"f.bin is missing or has the wrong checksum.*"
                                                 r"Tried: file://.*checksum mismatch"):
        datasets.fetch("toy2", {"f.bin": MD5}, [bad], root)
    assert not list((root / "toy2").iterdir())


def test_a_corrupt_cached_file_is_downloaded_again(mirrors):
    _, good, root = mirrors
    (root / "toy").mkdir(parents=True)
    (root / "toy" / "f.bin").write_bytes(GOOD[:5])  # a download cut short, by another tool
    with pytest.raises(FileNotFoundError, match="wrong checksum"):
        datasets.fetch("toy", {"f.bin": MD5}, [good], root, download=False)
    assert datasets.fetch("toy", {"f.bin": MD5}, [good], root)["f.bin"].read_bytes() == GOOD


@pytest.mark.parametrize("error", [urllib.error.ContentTooShortError("cut short", None),
                                   __import__("http.client").client.IncompleteRead(b"the"),
                                   KeyboardInterrupt()],
                         ids=["too-short", "incomplete-read", "ctrl-c"])
def test_a_partial_download_leaves_nothing_behind(mirrors, monkeypatch, error):
    """The .part file went only on a checksum mismatch: an IncompleteRead (no OSError) escaped
    as a crash and Ctrl-C left it; neither is kept now, and the next mirror is tried."""
    _, good, root = mirrors

    def partial(url, filename):
        with open(filename, "wb") as f:
            f.write(GOOD[:3])
        raise error

    monkeypatch.setattr(urllib.request, "urlretrieve", partial)
    if isinstance(error, KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            datasets.fetch("toy", {"f.bin": MD5}, [good], root)
    else:
        with pytest.raises(FileNotFoundError, match=f"Tried: {good}: {type(error).__name__}"):
            datasets.fetch("toy", {"f.bin": MD5}, [good], root)
    assert leftovers(root) == []
    monkeypatch.undo()
    assert datasets.fetch("toy", {"f.bin": MD5}, [good], root)["f.bin"].read_bytes() == GOOD


def test_an_idx_header_whose_sizes_overflow_is_refused(tmp_path):
    """65536**4 = 2**64 wrapped to 0 in np.prod: an empty body passed the size check and NumPy's
    reshape failed ("cannot reshape array of size 0")."""
    path = tmp_path / "huge-idx4-ubyte"
    path.write_bytes(bytes([0, 0, 8, 4]) + struct.pack(">4I", *[65536] * 4))
    with pytest.raises(ValueError, match=f"read_idx: {path} holds 0 data bytes but its header "
                                         r"\(65536, 65536, 65536, 65536\) needs "
                                         "18446744073709551616"):
        datasets.read_idx(path)
