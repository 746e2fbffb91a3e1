"""``Dropout``: zero entries at random while training, scaling the rest to keep the mean.

Examples
--------
>>> Dropout(rate=0.5)((), jax.numpy.ones((2, 3)), False)[0].shape
(2, 3)
"""

from typing import Any

import jax
import jax.numpy as jnp

from pmm._validation import check_number
from pmm.errors import RngError
from pmm.module import Parameterless
from pmm.shapes import validate_shape
from pmm.typing import DataFixed, DataShape, State


class Dropout(Parameterless):
    """Inverted dropout: while training, each entry is zeroed with probability ``rate`` and the
    others are divided by ``1 - rate``, so the expected output equals the input.

    The identity when ``training`` is ``False`` or ``rate == 0``. Otherwise ``rng`` must be a PRNG
    key (each leaf of PyTree data gets its own). Works for real and complex data. No params, no
    state. Shapes: any, preserved.

    Examples
    --------
    >>> Dropout(rate=0.1).output_shape((None, 3))
    (None, 3)
    """

    rate: float

    def __post_init__(self) -> None:
        super().__post_init__()
        check_number(
            self.rate,
            "rate",
            "Dropout",
            lambda r: 0 <= r < 1,
            "a probability of dropping in [0, 1)",
        )

    def apply(
        self, params: tuple[()], data: DataFixed, training: bool, state: State, rng: Any
    ) -> tuple[DataFixed, State]:
        if not training or self.rate == 0:
            return data, state
        if rng is None:
            raise RngError(
                f"dropout with rate {self.rate} is random when training=True, so it needs a PRNG "
                "key: pass rng=jax.random.key(0) (a fresh key per step), or training=False to "
                "evaluate"
            )
        leaves, structure = jax.tree.flatten(data)
        keys = jax.random.split(rng, len(leaves))
        keep = 1 - self.rate
        dropped = [
            jnp.where(jax.random.bernoulli(key, keep, leaf.shape), leaf / keep, 0)
            for key, leaf in zip(keys, leaves, strict=True)
        ]
        return jax.tree.unflatten(structure, dropped), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        validate_shape(input_shape)
        return input_shape
