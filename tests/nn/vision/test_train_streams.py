"""A run's random streams (the validation split, the augmentation, the shuffling) each get a
seed of their own drawn from the run's seed: with one seed for all, the validation split and
the first epoch's order were two shuffles from one generator state."""

import numpy as np
import pytest

from nn.vision.train import STREAMS, _start, stream_seed, train_args


def test_each_stream_gets_its_own_seed_and_the_same_seed_gives_the_same_ones():
    seeds = [stream_seed(7, s) for s in STREAMS]
    assert len(set(seeds)) == len(STREAMS)
    assert 7 not in seeds
    assert seeds == [stream_seed(7, s) for s in STREAMS]
    assert stream_seed(8, "shuffle") != stream_seed(7, "shuffle")


def test_unknown_stream_is_refused_by_name():
    with pytest.raises(ValueError, match="stream_seed: unknown stream 'shufle'"):
        stream_seed(0, "shufle")


def test_the_loader_and_the_augmentation_do_not_start_from_the_validation_splits_state(
        tmp_path):
    args = train_args(data="digits", model="mlp", limit=60, epochs=1, augment=True,
                      out=str(tmp_path / "run"), no_progress=True)
    run = _start(args)
    validation = np.random.default_rng(stream_seed(args.seed, "validation"))
    plain = np.random.default_rng(args.seed)  # what every stream started from before
    shuffle_state = run.loader.rng.bit_generator.state["state"]
    augment_state = run.loader.transform.transforms[0].rng.bit_generator.state["state"]
    for state in (shuffle_state, augment_state):
        assert state != plain.bit_generator.state["state"]
        assert state != validation.bit_generator.state["state"]
    assert shuffle_state != augment_state
