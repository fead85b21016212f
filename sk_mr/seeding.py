"""Seeded generators, shared by the MR nets and the adversarial strategies.

sk_mr never draws from, or advances, torch's global RNG on behalf of a seeded
fit: seeds come from a numpy Generator (:func:`draw_seed`), torch's global RNG
is forked around the code that must use it (:func:`forked_torch_rng`), and
on-device random values come from a private :class:`torch.Generator`
(:func:`seeded_generator`). A generator is pickled as its state
(:func:`generator_state`) and rebuilt on the device of the unpickling
machine (:func:`restore_generator`), so a net trained on CUDA unpickles on a
CPU-only machine. An unseeded net (``random_state=None``) draws from torch's
global RNG, as skorch does: its own host-side draws come from a numpy
Generator seeded from that RNG when first needed (:class:`GlobalSeededRNG`),
so ``torch.manual_seed`` makes its fit reproducible, and a fit that never
needs one draws nothing more than skorch's.
"""

import contextlib

import numpy as np
import torch

__all__ = ["GlobalSeededRNG", "check_random_state", "draw_seed", "forked_torch_rng",
           "generator_state", "restore_generator", "seeded_generator"]

#: How a pickled generator is marked: ``(GENERATOR_TAG, state)``.
GENERATOR_TAG = "torch.Generator"


def check_random_state(random_state, name="random_state"):
    """Return the numpy Generator of ``random_state``; raise a ValueError naming it.

    Accepts what :func:`numpy.random.default_rng` accepts (None, an int >= 0,
    a Generator, ...); a Generator is returned as it is, undrawn.

    Examples
    --------
    >>> check_random_state(-1)
    Traceback (most recent call last):
    ...
    ValueError: random_state must be None, an int >= 0 or a numpy.random.Generator, got -1 (expected non-negative integer).
    """
    try:
        return np.random.default_rng(random_state)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be None, an int >= 0 or a numpy.random.Generator, got "
            f"{random_state!r} ({exc}).") from None


class GlobalSeededRNG:
    """A numpy Generator seeded from torch's global RNG when first drawn from.

    The host-side generator of an unseeded net (``random_state=None``):
    every attribute is the Generator's, made on first use from one draw of
    ``torch.randint`` on the global CPU generator. A fit that never draws
    (no mixup, no adversarial seed) leaves the global RNG as skorch alone
    would; one that does is reproducible after ``torch.manual_seed``.
    Pickled with the Generator, or without one if none was made yet.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> first = GlobalSeededRNG().integers(1000, size=3)
    >>> _ = torch.manual_seed(0)
    >>> bool((GlobalSeededRNG().integers(1000, size=3) == first).all())
    True
    """

    def __init__(self):
        self.generator_ = None

    def __getattr__(self, name):
        if name.startswith("__") or name == "generator_":
            raise AttributeError(name)
        if self.generator_ is None:
            self.generator_ = np.random.default_rng(
                int(torch.randint(2 ** 62, (1,), dtype=torch.int64)))
        return getattr(self.generator_, name)

    def __repr__(self):
        drawn = "unseeded" if self.generator_ is None else repr(self.generator_)
        return f"{type(self).__name__}({drawn})"


def draw_seed(rng):
    """Return a seed (a host int below 2**62) drawn from a numpy Generator.

    Examples
    --------
    >>> import numpy as np
    >>> draw_seed(np.random.default_rng(0)) == draw_seed(np.random.default_rng(0))
    True
    """
    return int(rng.integers(2 ** 62))


def seeded_generator(device, seed):
    """Return a :class:`torch.Generator` on ``device`` seeded with ``seed``."""
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


def generator_state(generator):
    """What a generator pickles as: its state, a CPU tensor, tagged."""
    return (GENERATOR_TAG, generator.get_state())


def restore_generator(saved, device, seed):
    """Rebuild a generator pickled by :func:`generator_state` on ``device``.

    Parameters
    ----------
    saved : object
      The pickled value; anything but a tagged state is returned as it is.
    device : str or torch.device
    seed : callable
      Returns the seed of a fresh generator, used when the state belongs to
      another device type (a CUDA state unpickled on the CPU).

    Returns
    -------
    generator : torch.Generator or ``saved`` unchanged
    """
    if torch.is_tensor(saved):  # a bare state, as sk_mr.adversarial pickled it before
        saved = (GENERATOR_TAG, saved)
    if not (isinstance(saved, tuple) and len(saved) == 2 and saved[0] == GENERATOR_TAG):
        return saved
    generator = torch.Generator(device=device)
    try:
        generator.set_state(saved[1])
    except RuntimeError:  # a state of another device type
        generator.manual_seed(seed())
    return generator


def _device(device):
    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        return None


@contextlib.contextmanager
def forked_torch_rng(seed, device):
    """Fork torch's global RNG (and ``device``'s CUDA one) and seed it with ``seed``.

    The global state is restored on exit, so the code inside draws seeded
    values and leaves the RNG as it found it. ``seed=None`` runs the code on
    the global RNG as it is.
    """
    if seed is None:
        yield
        return
    devices = []
    device = _device(device)
    if device is not None and device.type == "cuda" and torch.cuda.is_available():
        devices = [device.index if device.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices):
        torch.default_generator.manual_seed(seed)
        for index in devices:
            torch.cuda.default_generators[index].manual_seed(seed)
        yield


class SeedingMixin:
    """The generators of :class:`sk_mr.mixin.MRMixin`, seeded from ``random_state``.

    ``rng_`` (a numpy Generator; with ``random_state=None`` a
    :class:`GlobalSeededRNG`, seeded from torch's global RNG when first
    drawn from) draws the host-side random values and the seeds;
    ``torch_rng_`` (on the net's device, made when first needed) draws
    on-device values such as mixup's pairing. Pickled as its state.
    """

    def _initialize_mr_generators(self):
        # unseeded: torch's global RNG, as skorch, seeds the host draws when
        # the first is needed (a fresh entropy source would make the fit
        # irreproducible after torch.manual_seed)
        self.rng_ = GlobalSeededRNG() if self.random_state is None \
            else check_random_state(self.random_state)
        self.torch_rng_ = None

    def _seeded_torch(self):
        """Fork torch's RNG, seeded from ``rng_``, when ``random_state`` is set."""
        seed = None if self.random_state is None else draw_seed(self.rng_)
        return forked_torch_rng(seed, self._mr_device())

    def _mixup_generator(self):
        if getattr(self, "torch_rng_", None) is None:
            self.torch_rng_ = seeded_generator(self._mr_device(), draw_seed(self.rng_))
        return self.torch_rng_

    def __getstate__(self):
        state = super().__getstate__()
        if isinstance(state.get("torch_rng_"), torch.Generator):
            # A CUDA generator does not unpickle on a CPU-only machine.
            state["torch_rng_"] = generator_state(state["torch_rng_"])
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        saved = self.__dict__.get("torch_rng_")
        if isinstance(saved, tuple):
            self.torch_rng_ = restore_generator(
                saved, self._mr_device(), lambda: draw_seed(self.rng_))
