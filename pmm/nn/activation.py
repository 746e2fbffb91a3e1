"""``Activation(name)``: a ``jax.nn`` activation chosen by its function name, e.g. ``"relu"``.

``ACTIVATIONS`` maps every ``jax.nn`` activation function name to its module class.

Examples
--------
>>> Activation("tanh").built
Tanh()
"""

from pmm.composite import Composite
from pmm.nn import activations as act

#: The module of each ``jax.nn`` activation function name, with its default hyperparameters.
ACTIVATIONS: dict[str, type[act.ElementwiseActivation]] = {
    "celu": act.CELU,
    "elu": act.ELU,
    "gelu": act.GELU,
    "glu": act.GLU,
    "hard_sigmoid": act.HardSigmoid,
    "hard_silu": act.HardSiLU,
    "hard_swish": act.HardSwish,
    "hard_tanh": act.HardTanh,
    "identity": act.Identity,
    "leaky_relu": act.LeakyReLU,
    "log_sigmoid": act.LogSigmoid,
    "log_softmax": act.LogSoftmax,
    "mish": act.Mish,
    "relu": act.ReLU,
    "relu6": act.ReLU6,
    "selu": act.SELU,
    "sigmoid": act.Sigmoid,
    "silu": act.SiLU,
    "soft_sign": act.SoftSign,
    "softmax": act.Softmax,
    "softplus": act.Softplus,
    "sparse_plus": act.SparsePlus,
    "sparse_sigmoid": act.SparseSigmoid,
    "squareplus": act.Squareplus,
    "swish": act.Swish,
    "tanh": act.Tanh,
}


class Activation(Composite):
    """The ``jax.nn`` activation called ``name`` (e.g. ``"relu"``), with its default settings.

    Equivalent to the named class (``Activation("relu")`` computes what ``ReLU()`` does); params
    and state are ``()``. Shapes: as the named activation (every one but ``"glu"`` keeps them).

    Examples
    --------
    >>> Activation("gelu").output_shape((3,))
    (3,)
    """

    name: str

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.name not in ACTIVATIONS:
            raise ValueError(
                f"field 'name' of Activation is {self.name!r}, not a jax.nn activation; "
                f"give one of {list(ACTIVATIONS)}"
            )

    def build(self) -> act.ElementwiseActivation:
        """The activation module this name stands for."""
        return ACTIVATIONS[self.name]()
