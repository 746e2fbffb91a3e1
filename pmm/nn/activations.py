"""The activations of ``jax.nn`` as parameterless modules, applied leaf by leaf to PyTree data.

Each class is a docstring and its ``function``; the shared ``ElementwiseActivation`` base gives
``init`` (no params, no state), the leaf-wise ``apply`` and a shape-preserving ``output_shape``.
``pmm.nn.Activation(name)`` (in ``activation.py``) picks one by its ``jax.nn`` function name.

Examples
--------
>>> ReLU()((), jax.numpy.array([[-1.0, 2.0]]))[0]
Array([[0., 2.]], dtype=float32)
"""

import abc
from typing import Any

import jax
from jaxtyping import Array, Inexact

from pmm._validation import check_axis, check_bool, check_number
from pmm.errors import ShapeError
from pmm.module import Parameterless
from pmm.shapes import dims, map_shapes, validate_shape
from pmm.typing import AnyData, Data, DataFixed, DataShape, State


class ElementwiseActivation(Parameterless):
    """Base of the activation modules: ``function`` applied to every leaf of the data.

    No params, no state. Subclasses that keep each leaf's shape inherit ``output_shape``, which
    returns ``input_shape`` unchanged (``None`` sizes included).

    Examples
    --------
    >>> isinstance(Tanh(), ElementwiseActivation), Tanh().init(None, (3,))
    (True, ((), ()))
    """

    @abc.abstractmethod
    def function(self, x: Inexact[Array, "..."]) -> Inexact[Array, "..."]:
        """The activation of one array of data (batch axis included)."""

    def apply(
        self, params: tuple[()], data: DataFixed, training: bool, state: State, rng: Any
    ) -> tuple[DataFixed, State]:
        return jax.tree.map(self.function, data), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        validate_shape(input_shape)
        return input_shape


class _AxisActivation(ElementwiseActivation):
    """An activation along one non-batch axis of every leaf."""

    axis: int = -1

    def __post_init__(self) -> None:
        super().__post_init__()
        check_axis(self.axis, "axis", type(self).__name__)


class _AlphaActivation(ElementwiseActivation):
    """An activation with a real ``alpha`` hyperparameter."""

    alpha: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_number(self.alpha, "alpha", type(self).__name__)


class CELU(_AlphaActivation):
    """``jax.nn.celu``: ``max(x, 0) + alpha * min(exp(x / alpha) - 1, 0)``. Shape preserved.

    >>> CELU(alpha=0.5).output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.celu(x, self.alpha)


class ELU(_AlphaActivation):
    """``jax.nn.elu``: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``. Shape preserved.

    >>> ELU().output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.elu(x, self.alpha)


class GELU(ElementwiseActivation):
    """``jax.nn.gelu``: ``x * Phi(x)``, tanh-approximated when ``approximate``. Shape preserved.

    >>> GELU(approximate=False).output_shape((3,))
    (3,)
    """

    approximate: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_bool(self.approximate, "approximate", "GELU")

    def function(self, x):
        return jax.nn.gelu(x, self.approximate)


class GLU(_AxisActivation):
    """``jax.nn.glu``: splits ``axis`` into halves ``a, b`` and gives ``a * sigmoid(b)``.

    Shapes: the size of ``axis`` halves, ``(batch, ..., 2n, ...)`` to ``(batch, ..., n, ...)``.

    >>> GLU().output_shape((4, 6))
    (4, 3)
    """

    def function(self, x):
        return jax.nn.glu(x, self.axis)

    def apply(
        self, params: tuple[()], data: Data, training: bool, state: State, rng: Any
    ) -> tuple[Data, State]:
        # Only the annotations differ from the base: GLU changes the shape of each leaf.
        return super().apply(params, data, training, state, rng)

    def output_shape(self, input_shape: DataShape) -> DataShape:
        validate_shape(input_shape)
        return map_shapes(lambda leaf: self._halve(dims(leaf)), input_shape)

    def _halve(self, shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        axis = self.axis - 1 if self.axis > 0 else self.axis + len(shape)
        if not 0 <= axis < len(shape) or (shape[axis] or 0) % 2:
            raise ShapeError(
                f"GLU splits axis {self.axis} into two halves, so it needs that axis with an even "
                f"size; input_shape has a leaf {shape!r}"
            )
        size = shape[axis]
        return (*shape[:axis], None if size is None else size // 2, *shape[axis + 1 :])


class HardSigmoid(ElementwiseActivation):
    """``jax.nn.hard_sigmoid``: ``relu6(x + 3) / 6``. Shape preserved.

    >>> HardSigmoid().output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.hard_sigmoid(x)


class HardSiLU(ElementwiseActivation):
    """``jax.nn.hard_silu`` (alias ``HardSwish``): ``x * hard_sigmoid(x)``. Shape preserved.

    >>> HardSiLU().output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.hard_silu(x)


class HardTanh(ElementwiseActivation):
    """``jax.nn.hard_tanh``: ``x`` clipped to ``[-1, 1]``. Shape preserved.

    >>> HardTanh().output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.hard_tanh(x)


class Identity(ElementwiseActivation):
    """``jax.nn.identity``: the data unchanged, of any dtype (integer ids and masks too). Shape
    and dtype preserved.

    >>> Identity().output_shape({"a": (3,)})
    {'a': (3,)}
    """

    def function(self, x):
        return jax.nn.identity(x)

    def apply(
        self, params: tuple[()], data: AnyData, training: bool, state: State, rng: Any
    ) -> tuple[AnyData, State]:
        # Only the annotations differ from the base: the identity takes data of any dtype.
        return super().apply(params, data, training, state, rng)


class LeakyReLU(ElementwiseActivation):
    """``jax.nn.leaky_relu``: ``x`` if ``x >= 0`` else ``negative_slope * x``. Shape preserved.

    >>> LeakyReLU(negative_slope=0.1).output_shape((3,))
    (3,)
    """

    negative_slope: float = 0.01

    def __post_init__(self) -> None:
        super().__post_init__()
        check_number(self.negative_slope, "negative_slope", "LeakyReLU")

    def function(self, x):
        return jax.nn.leaky_relu(x, self.negative_slope)


class LogSigmoid(ElementwiseActivation):
    """``jax.nn.log_sigmoid``: ``-softplus(-x)``. Shape preserved.

    >>> LogSigmoid().output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.log_sigmoid(x)


class LogSoftmax(_AxisActivation):
    """``jax.nn.log_softmax`` along ``axis``: ``x - logsumexp(x, axis)``. Shape preserved.

    >>> LogSoftmax().output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.log_softmax(x, self.axis)


class Mish(ElementwiseActivation):
    """``jax.nn.mish``: ``x * tanh(softplus(x))``. Shape preserved.

    >>> Mish().output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.mish(x)


class ReLU(ElementwiseActivation):
    """``jax.nn.relu``: ``max(x, 0)``. Shape preserved.

    >>> ReLU().output_shape((None, 3))
    (None, 3)
    """

    def function(self, x):
        return jax.nn.relu(x)


class ReLU6(ElementwiseActivation):
    """``jax.nn.relu6``: ``min(max(x, 0), 6)``. Shape preserved.

    >>> ReLU6().output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.relu6(x)


class SELU(ElementwiseActivation):
    """``jax.nn.selu``: ``scale * elu(x, alpha)`` with the self-normalising constants.

    Shape preserved.

    >>> SELU().output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.selu(x)


class Sigmoid(ElementwiseActivation):
    """``jax.nn.sigmoid``: ``1 / (1 + exp(-x))``. Shape preserved.

    >>> Sigmoid().output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.sigmoid(x)


class SiLU(ElementwiseActivation):
    """``jax.nn.silu`` (alias ``Swish``): ``x * sigmoid(x)``. Shape preserved.

    >>> SiLU().output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.silu(x)


class SoftSign(ElementwiseActivation):
    """``jax.nn.soft_sign``: ``x / (|x| + 1)``. Shape preserved.

    >>> SoftSign().output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.soft_sign(x)


class Softmax(_AxisActivation):
    """``jax.nn.softmax`` along ``axis``: ``exp(x) / sum(exp(x), axis)``. Shape preserved.

    >>> Softmax().output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.softmax(x, self.axis)


class Softplus(ElementwiseActivation):
    """``jax.nn.softplus``: ``log(1 + exp(x))``. Shape preserved.

    >>> Softplus().output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.softplus(x)


class SparsePlus(ElementwiseActivation):
    """``jax.nn.sparse_plus``: ``0``, ``(x + 1)^2 / 4`` or ``x`` for ``x <= -1``, ``|x| < 1``,
    ``x >= 1``. Shape preserved.

    >>> SparsePlus().output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.sparse_plus(x)


class SparseSigmoid(ElementwiseActivation):
    """``jax.nn.sparse_sigmoid``: ``(x + 1) / 2`` clipped to ``[0, 1]``. Shape preserved.

    >>> SparseSigmoid().output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.sparse_sigmoid(x)


class Squareplus(ElementwiseActivation):
    """``jax.nn.squareplus``: ``(x + sqrt(x^2 + b)) / 2``. Shape preserved.

    >>> Squareplus(b=1.0).output_shape((3,))
    (3,)
    """

    b: float = 4.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_number(self.b, "b", "Squareplus")

    def function(self, x):
        return jax.nn.squareplus(x, self.b)


class Tanh(ElementwiseActivation):
    """``jax.nn.tanh``: the hyperbolic tangent. Shape preserved.

    >>> Tanh().output_shape((3,))
    (3,)
    """

    def function(self, x):
        return jax.nn.tanh(x)


HardSwish = HardSiLU
Swish = SiLU
