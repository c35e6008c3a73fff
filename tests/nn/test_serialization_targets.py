"""Saving onto a folder or into a folder that does not exist: the error names the target and
the folder, not the temporary (it named `.x.npz.tmp-<random>.npz`, a file the user never
asked for), and nothing is written."""

import errno
import re

import numpy as np
import pytest

import nn

SUFFIXES = pytest.mark.parametrize("suffix", [".npz", ".safetensors"])


@SUFFIXES
def test_saving_onto_a_folder_names_it_and_writes_nothing(tmp_path, suffix):
    target = tmp_path / f"best{suffix}"
    target.mkdir()
    (target / "kept.txt").write_text("mine")
    with pytest.raises(IsADirectoryError, match=re.escape(f"cannot write {target}: it is a "
                                                          "folder")) as e:
        nn.save({"w": np.ones(2)}, target)
    assert e.value.errno == errno.EISDIR
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]  # no temporary
    assert [p.name for p in target.iterdir()] == ["kept.txt"]


@SUFFIXES
def test_saving_into_a_missing_folder_names_the_folder(tmp_path, suffix):
    target = tmp_path / "runs" / "x" / f"best{suffix}"
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"cannot write {target}: there is no folder {target.parent}")):
        nn.save({"w": np.ones(2)}, target)
    assert list(tmp_path.iterdir()) == []


def test_a_dangling_link_names_the_folder_it_points_into(tmp_path):
    link = tmp_path / "best.npz"
    link.symlink_to(tmp_path / "gone" / "best.npz")
    with pytest.raises(FileNotFoundError, match=re.escape(f"there is no folder {tmp_path}/gone")):
        nn.save({"w": np.ones(2)}, link)
    assert link.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["best.npz"]
