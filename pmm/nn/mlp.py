"""``MLP``: a multilayer perceptron, the Sequential of ``Linear`` and ``Activation`` layers.

Examples
--------
>>> MLP(hidden=(8,), features=2).output_shape((3,))
(2,)
"""

from pmm._dtypes import canonical_dtype
from pmm._validation import check_bool, check_int
from pmm.combinators import Sequential
from pmm.composite import Composite
from pmm.module import Module
from pmm.nn.activation import ACTIVATIONS, Activation
from pmm.nn.linear import Linear


class MLP(Composite):
    """``Linear(hidden[0]) >> Activation(activation) >> ... >> Linear(features)`` on the last axis.

    ``init``, ``apply`` and ``output_shape`` are those of that Sequential (``built``), so params
    are its tuple: ``{"weight", "bias"}`` for each Linear and ``()`` for each activation.
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

    def build(self) -> Sequential:
        """The equivalent Sequential of ``Linear`` and ``Activation`` layers."""
        layers: list[Module] = []
        for width in (*self.hidden, self.features):
            layers += [
                Linear(features=width, use_bias=self.use_bias, dtype=self.dtype),
                Activation(self.activation),
            ]
        return Sequential(*layers[:-1])  # no activation after the last Linear
