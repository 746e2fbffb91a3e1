"""``Inverse``: the module that undoes a scaler, with the scaler's own params and state.

``y_scaler.inverse()`` is ``Inverse(y_scaler)``; placed last in a model it turns scaled outputs
back into raw units, so ``x_scaler >> net >> y_scaler.inverse()`` takes raw inputs and returns
raw targets (see ``docs/uncertainty.md`` for how to train it).

Examples
--------
>>> import numpy as np, pmm
>>> scaler = pmm.preprocessing.StandardScaler()
>>> params, state = scaler.fit(np.array([[0.0], [4.0]]))
>>> scaler.inverse()(params, np.array([[1.0]]), False, state)[0]
Array([[4.]], dtype=float32)
"""

from typing import Any

from jaxtyping import Array, Float, PyTree

from pmm.module import Module
from pmm.preprocessing.scaler import Scaler
from pmm.typing import DataShape, DictState, Params


class Inverse(Module):
    """``data * scale + center`` leaf by leaf: undoes ``scaler``, whose params and state it takes.

    ``init`` and ``output_shape`` are the scaler's (the shapes are the same both ways), so the
    state of a fitted scaler serves both it and its inverse. The scaler is a hyperparameter, not
    a child: it is never called, only its statistics are used. ``inverse()`` gives the scaler.

    Examples
    --------
    >>> Inverse(pmm.preprocessing.MinMaxScaler()).inverse()
    MinMaxScaler()
    """

    scaler: Scaler

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.scaler, Scaler):
            raise ValueError(
                f"field 'scaler' of Inverse is {self.scaler!r}; give an affine scaler such as "
                "pmm.preprocessing.StandardScaler() (OneHot's inverse is its .inverse())"
            )

    def init(self, rng: Any, input_shape: DataShape) -> tuple[Params, DictState]:
        return self.scaler.init(rng, input_shape)

    def apply(
        self,
        params: Params,
        data: PyTree[Float[Array, " batch_size ..."]],
        training: bool,
        state: DictState,
        rng: Any,
    ) -> tuple[PyTree[Float[Array, " batch_size ..."]], DictState]:
        return self.scaler.undo(data, state), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        return self.scaler.output_shape(input_shape)

    def inverse(self) -> Scaler:
        """The scaler this module undoes."""
        return self.scaler
