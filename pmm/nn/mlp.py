"""``MLP``: a multilayer perceptron, the Sequential of ``Linear`` and ``Activation`` layers.

Examples
--------
>>> MLP(hidden=(8,), features=2).output_shape((3,))
(2,)
"""

import functools
from typing import Any

from jaxtyping import Array, Inexact

from pmm._dtypes import canonical_dtype
from pmm._validation import check_bool, check_int
from pmm.combinators import Sequential
from pmm.errors import located
from pmm.module import Module
from pmm.nn.activations import ACTIVATIONS, Activation
from pmm.nn.linear import Linear
from pmm.typing import DataShape, Params, State, TupleParams


@functools.lru_cache(maxsize=256)
def _layers(
    hidden: tuple[int, ...], features: int, activation: str, use_bias: bool, dtype: str
) -> Sequential:
    """The Sequential an MLP of these hyperparameters stands for (cached; specs hold no cache)."""
    layers: list[Module] = []
    for width in hidden:
        layers += [Linear(features=width, use_bias=use_bias, dtype=dtype), Activation(activation)]
    return Sequential(*layers, Linear(features=features, use_bias=use_bias, dtype=dtype))


class MLP(Module):
    """``Linear(hidden[0]) >> Activation(activation) >> ... >> Linear(features)`` on the last axis.

    ``init``, ``apply`` and ``output_shape`` are those of that Sequential (see ``sequential``), so
    params are its tuple: ``{"weight", "bias"}`` for each Linear and ``()`` for each activation.
    ``hidden=()`` gives a single Linear layer. Shapes: ``(batch, *rest, in)`` to
    ``(batch, *rest, features)``.

    Examples
    --------
    >>> import jax
    >>> len(MLP(hidden=(16, 16)).init(jax.random.key(0), (3,))[0])
    5
    """

    hidden: tuple[int, ...] = (64, 64)
    features: int = 1
    activation: str = "relu"
    use_bias: bool = True
    dtype: str = "float32"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype, "dtype", "MLP"))
        super().__post_init__()
        if not isinstance(self.hidden, tuple):
            raise ValueError(f"field 'hidden' of MLP is {self.hidden!r}; give a tuple of widths")
        for width in self.hidden:
            check_int(width, "hidden", "MLP", minimum=1)
        check_int(self.features, "features", "MLP", minimum=1)
        check_bool(self.use_bias, "use_bias", "MLP")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"field 'activation' of MLP is {self.activation!r}, not a jax.nn activation; "
                f"give one of {list(ACTIVATIONS)}"
            )

    @property
    def sequential(self) -> Sequential:
        """The equivalent ``Sequential`` of ``Linear`` and ``Activation`` layers."""
        return _layers(self.hidden, self.features, self.activation, self.use_bias, self.dtype)

    def init(self, rng: Any, input_shape: DataShape) -> tuple[TupleParams, State]:
        with located(repr(self), self.sequential):
            return self.sequential.init(rng, input_shape)  # type: ignore[return-value]

    def apply(
        self,
        params: Params,
        data: Inexact[Array, " batch_size *rest in_features"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size *rest out_features"], State]:
        with located(repr(self), self.sequential):
            return self.sequential.apply(params, data, training, state, rng)  # type: ignore[return-value]

    def output_shape(self, input_shape: DataShape) -> DataShape:
        with located(repr(self), self.sequential):
            return self.sequential.output_shape(input_shape)
