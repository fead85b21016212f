"""Tests of sk_mr.seeding: seeds, forked RNGs and pickled generators."""

import pickle

import numpy as np
import torch

from sk_mr.seeding import (draw_seed, forked_torch_rng, generator_state, restore_generator,
                           seeded_generator)


def test_forked_rng_is_seeded_and_leaves_the_global_rng_alone():
    before = torch.get_rng_state().clone()
    with forked_torch_rng(123, "cpu"):
        first = torch.rand(3)
    assert torch.equal(torch.get_rng_state(), before)
    with forked_torch_rng(123, "cpu"):
        assert torch.equal(torch.rand(3), first)
    torch.manual_seed(0)
    with forked_torch_rng(None, "cpu"):  # no seed: torch's global RNG, as skorch uses it
        inside = torch.rand(1)
    torch.manual_seed(0)
    assert torch.equal(torch.rand(1), inside)

def test_seeds_come_from_the_numpy_generator_only():
    assert draw_seed(np.random.default_rng(5)) == draw_seed(np.random.default_rng(5))
    assert 0 <= draw_seed(np.random.default_rng(5)) < 2 ** 62


def test_a_pickled_generator_continues_where_it_was():
    generator = seeded_generator("cpu", 7)
    torch.rand(2, generator=generator)
    saved = pickle.loads(pickle.dumps(generator_state(generator)))
    expected = torch.rand(4, generator=generator)
    restored = restore_generator(saved, "cpu", seed=lambda: 0)
    assert torch.equal(torch.rand(4, generator=restored), expected)


def test_a_state_of_another_device_falls_back_to_the_seed():
    bad = ("torch.Generator", torch.zeros(3, dtype=torch.uint8))  # not a CPU state
    restored = restore_generator(bad, "cpu", seed=lambda: 11)
    assert torch.equal(torch.rand(3, generator=restored),
                       torch.rand(3, generator=seeded_generator("cpu", 11)))
    assert restore_generator(None, "cpu", seed=lambda: 0) is None


def test_the_global_seeded_rng_draws_once_from_torch_and_only_when_used():
    from sk_mr.seeding import GlobalSeededRNG

    # made, it draws nothing: the global stream is the one without it
    torch.manual_seed(3)
    untouched = torch.rand(2)
    torch.manual_seed(3)
    rng = GlobalSeededRNG()
    assert torch.equal(torch.rand(2), untouched)
    torch.manual_seed(3)
    expected_seed = int(torch.randint(2 ** 62, (1,), dtype=torch.int64))
    after_one_draw = torch.rand(2)
    torch.manual_seed(3)
    values = rng.integers(1000, size=4)  # the first use seeds it: one torch draw
    assert torch.equal(torch.rand(2), after_one_draw)
    assert (values == np.random.default_rng(expected_seed).integers(1000, size=4)).all()
    assert not torch.equal(untouched, after_one_draw)
    # pickled with its generator, it continues where it was
    copy = pickle.loads(pickle.dumps(rng))
    assert (copy.integers(1000, size=3) == rng.integers(1000, size=3)).all()
    assert "unseeded" in repr(GlobalSeededRNG()) and "unseeded" not in repr(rng)
