"""Named random streams, all spawned from the scenario seed.

Each consumer (arrivals, prompt lengths, failures, ...) asks for its stream by name. The child seed
depends only on (seed, name), not on the order in which streams are requested, so adding a stream
for one component never shifts the numbers another component sees: two policies compared on the same
seed see the same arrivals (common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np


class RandomStreams:
    def __init__(self, seed: int):
        self.seed = int(seed)
        self._issued: dict[str, np.random.Generator] = {}

    def generator(self, name: str) -> np.random.Generator:
        """The generator of stream `name` (the same object for the same name within a run)."""
        if name not in self._issued:
            key = zlib.crc32(name.encode("utf-8"))
            sequence = np.random.SeedSequence(entropy=self.seed, spawn_key=(key,))
            self._issued[name] = np.random.Generator(np.random.PCG64(sequence))
        return self._issued[name]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._issued))
