"""``Activation(name)``: a ``jax.nn`` activation chosen by its function name, e.g. ``"relu"``.

``ACTIVATIONS`` maps every ``jax.nn`` activation function name to its module class.

Examples
--------
>>> Activation("tanh").built
Tanh()
"""

from pmm.composite import Composite
from pmm.nn.activations import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    ElementwiseActivation,
    HardSigmoid,
    HardSiLU,
    HardSwish,
    HardTanh,
    Identity,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    SoftSign,
    SparsePlus,
    SparseSigmoid,
    Squareplus,
    Swish,
    Tanh,
)

#: The module of each ``jax.nn`` activation function name, with its default hyperparameters.
ACTIVATIONS: dict[str, type[ElementwiseActivation]] = {
    "celu": CELU,
    "elu": ELU,
    "gelu": GELU,
    "glu": GLU,
    "hard_sigmoid": HardSigmoid,
    "hard_silu": HardSiLU,
    "hard_swish": HardSwish,
    "hard_tanh": HardTanh,
    "identity": Identity,
    "leaky_relu": LeakyReLU,
    "log_sigmoid": LogSigmoid,
    "log_softmax": LogSoftmax,
    "mish": Mish,
    "relu": ReLU,
    "relu6": ReLU6,
    "selu": SELU,
    "sigmoid": Sigmoid,
    "silu": SiLU,
    "soft_sign": SoftSign,
    "softmax": Softmax,
    "softplus": Softplus,
    "sparse_plus": SparsePlus,
    "sparse_sigmoid": SparseSigmoid,
    "squareplus": Squareplus,
    "swish": Swish,
    "tanh": Tanh,
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

    def build(self) -> ElementwiseActivation:
        """The activation module this name stands for."""
        return ACTIVATIONS[self.name]()
