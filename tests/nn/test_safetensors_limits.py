"""A checkpoint whose structure outside arrays (the JSON manifest in the header) passes the
safetensors header limit (100 MB) is refused with a ValueError saying what to do, before any
file is touched (it was safetensors' own SafetensorError, "header too large")."""

import numpy as np
import pytest

import nn


@pytest.mark.slow
def test_a_manifest_over_the_header_limit_is_refused_saying_what_to_do(tmp_path):
    path = tmp_path / "ck.safetensors"
    nn.save({"w": np.ones(2)}, path)
    before = path.read_bytes()
    notes = "x" * 100_000_000  # 100 MB of text in the manifest: over the limit with the rest
    with pytest.raises(ValueError, match=r"save: a \.safetensors file cannot hold this "
                                         r"checkpoint \(.*header too large.*\): keep long lists "
                                         r"of numbers as arrays \(np\.asarray\), or save as "
                                         r"\.npz"):
        nn.save({"w": np.ones(2), "notes": notes}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.safetensors"]
