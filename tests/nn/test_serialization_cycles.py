"""nn.save of a structure that holds itself: a TypeError naming where, before any file is
touched (it was a RecursionError, "maximum recursion depth exceeded"). A container met twice
without a cycle is saved twice, as before."""

import numpy as np
import pytest

import nn


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_a_cycle_is_refused_naming_where_and_the_old_file_stays(tmp_path, suffix):
    path = tmp_path / f"c{suffix}"
    nn.save({"w": np.ones(2)}, path)
    before = path.read_bytes()
    state = {"model": {"w": np.ones(2)}, "history": [1.0]}
    state["model"]["parent"] = state
    with pytest.raises(TypeError, match=r"save: the dict at model\.parent holds itself \(a "
                                        r"cycle\): a checkpoint is a tree"):
        nn.save(state, path)
    items = [0]
    items.append((items,))
    with pytest.raises(TypeError, match=r"save: the list at 1\.0 holds itself"):
        nn.save(items, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [path.name]
    shared = [np.arange(2.0)]
    nn.save({"a": shared, "b": (shared, shared)}, path)  # met three times, no cycle
    back = nn.load(path)
    assert back["a"][0].tolist() == back["b"][1][0].tolist() == [0.0, 1.0]
