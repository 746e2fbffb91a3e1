"""``Scan``: run a recurrent cell along the time axis of a sequence with ``jax.lax.scan``.

Examples
--------
>>> model = Scan(pmm.nn.GRUCell(features=8))
>>> params, state = model.init(jax.random.key(0), (None, 3))
>>> model(params, jnp.ones((2, 5, 3)))[0].shape
(2, 5, 8)
"""

from typing import Any

import jax
import jax.numpy as jnp

from pmm._calls import call_child
from pmm._dtypes import compute_dtype
from pmm._validation import array_shape, check_bool
from pmm.errors import ShapeError, located
from pmm.module import Module
from pmm.nn.recurrent_cell import RecurrentCell
from pmm.shapes import dims, leaf_dtype, shape_of, validate_shape
from pmm.typing import AnyData, ArrayDataShape, DataShape, Params, State


class Scan(Module):
    """Apply ``cell`` at every step of axis 1 of ``(batch, time, *in)``, carrying its state.

    The cell (a ``pmm.nn.RecurrentCell``: ``GRUCell``, ``LSTMCell`` or your own) runs once per
    step with the same params, as one compiled ``jax.lax.scan`` step for any sequence length;
    step ``t`` gets ``{"x": x[:, t], **carry}`` and returns the next carry. The carry starts at
    zeros, or at the one given in the data:

    - data ``(batch, time, *in)``: the carry starts at zeros (of the result dtype of the data
      and the params);
    - data ``{"x": (batch, time, *in), **carry}``, e.g. ``{"x": ..., "h": (batch, features)}``
      for a GRU: the carry starts at the given arrays (cast to that dtype), e.g. an encoder's
      final state.

    Output: the carry's ``"h"`` at every step, ``(batch, time, features)``, when
    ``return_sequences``; else only after the last step, ``(batch, features)``. With
    ``reverse`` the steps run from the last to the first (``output[:, t]`` still belongs to
    ``x[:, t]``), as the backward half of a bidirectional layer.

    Params are the cell's; ``Scan`` has no state, and refuses cells that keep state (a
    running statistic cannot change from step to step inside one call). When ``rng`` is given,
    step ``t`` gets key ``t`` of ``jax.random.split(rng, time)``. Errors inside the cell name it
    as ``Scan > GRUCell(features=8)``. ``input_shape`` is ``(time, *in)`` (``time`` may be
    ``None``), or the dict form with the carry's shapes.

    Examples
    --------
    >>> Scan(pmm.nn.LSTMCell(features=4), return_sequences=False).output_shape((10, 3))
    (4,)
    """

    cell: RecurrentCell
    reverse: bool = False
    return_sequences: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.cell, RecurrentCell):
            raise ValueError(
                f"field 'cell' of Scan is {self.cell!r}, not a recurrent cell; give "
                "pmm.nn.GRUCell(features), pmm.nn.LSTMCell(features) or a subclass of "
                "pmm.nn.RecurrentCell"
            )
        check_bool(self.reverse, "reverse", "Scan")
        check_bool(self.return_sequences, "return_sequences", "Scan")

    def children(self) -> tuple[tuple[Any, str, Module], ...]:
        return ((None, self.segment(None), self.cell),)

    def init(self, rng: Any, input_shape: DataShape) -> tuple[Params, State]:
        x_step, carry, _ = self._step_shape(input_shape)
        with located(self.segment(None), self.cell):
            params, state = self.cell.init(rng, {"x": x_step, **carry})
        if jax.tree.leaves(state):
            raise ShapeError(
                f"Scan runs {self.cell!r} with the same params at every step and keeps no state, "
                "but this cell's init returns state; use a stateless cell (normalise with "
                "LayerNorm or RMSNorm rather than BatchNorm inside a cell)"
            )
        return params, ()

    def apply(
        self, params: Params, data: AnyData, training: bool, state: State, rng: Any
    ) -> tuple[AnyData, State]:
        sequence, given = _split(data)
        _, carry_shape, _ = self._step_shape(shape_of(data, typed=True))
        dtype = jnp.result_type(self._step_dtype(sequence), *jax.tree.leaves(params))
        batch, time = sequence.shape[:2]
        carry = {
            name: given[name].astype(dtype) if given else jnp.zeros((batch, *shape), dtype)
            for name, shape in carry_shape.items()
        }
        keys = None if rng is None else jax.random.split(rng, time)

        def step(carry: dict[str, jax.Array], inputs: Any) -> tuple[dict[str, jax.Array], Any]:
            x, key = inputs
            step_data = {"x": x, **carry}
            carry, _ = call_child(self, None, self.cell, True, params, step_data, training, (), key)
            return carry, (carry["h"] if self.return_sequences else None)

        steps = jnp.swapaxes(sequence, 0, 1)
        carry, outputs = jax.lax.scan(step, carry, (steps, keys), reverse=self.reverse)
        return (jnp.swapaxes(outputs, 0, 1) if self.return_sequences else carry["h"]), state

    def _step_dtype(self, sequence: jax.Array) -> Any:
        """The dtype the steps compute in: a half-precision cell's own dtype, else JAX's
        promotion of the data's; a cell written without a ``dtype`` field follows the data."""
        cell_dtype = getattr(self.cell, "dtype", None)
        return sequence.dtype if cell_dtype is None else compute_dtype(sequence, cell_dtype)

    def output_shape(self, input_shape: DataShape) -> DataShape:
        _, carry, time = self._step_shape(input_shape)
        features = carry["h"]
        return (time, *features) if self.return_sequences else features

    def _step_shape(
        self, input_shape: DataShape
    ) -> tuple[Any, dict[str, ArrayDataShape], int | None]:
        """The shape of one step's ``x``, the carry's shapes and the sequence length;
        ``ShapeError`` for data that is not a sequence, or a carry of the wrong shape."""
        validate_shape(input_shape)
        sequence, given = _split(input_shape)
        sizes = array_shape(sequence, "Scan")
        if len(sizes) < 2:
            raise ShapeError(
                f"Scan runs its cell along axis 1 of data (batch, time, *features), but the "
                f"per-sample shape is {sizes}, with no time axis; give (batch, time, features) "
                "(a time axis of length 1 for a single step)"
            )
        x_step: Any = sizes[1:]
        if isinstance(sequence, jax.ShapeDtypeStruct) and None not in x_step:
            x_step = jax.ShapeDtypeStruct(x_step, leaf_dtype(sequence))
        carry = _carry_shape(self.cell, sizes[1:])
        given_sizes = None if given is None else {k: dims(v) for k, v in given.items()}
        if given_sizes is not None and given_sizes != carry:
            wanted = ", ".join(
                f"{k!r}: (batch, {', '.join(map(str, v))})" for k, v in carry.items()
            )
            raise ShapeError(
                f"the initial carry given to Scan is {given_sizes} per sample, but "
                f"{self.cell!r} carries {carry}; give data {{'x': (batch, time, ...), {wanted}}}"
            )
        return x_step, carry, sizes[0]


def _carry_shape(cell: RecurrentCell, x_shape: ArrayDataShape) -> dict[str, ArrayDataShape]:
    """``cell.carry_shape(x_shape)``, checked to hold the output ``"h"``."""
    carry = cell.carry_shape(x_shape)
    if "h" not in carry:
        raise ShapeError(
            f"{cell!r}.carry_shape gives {carry}, without 'h': every recurrent cell carries "
            "its output as 'h', which Scan returns"
        )
    return carry


def _split(tree: Any) -> tuple[Any, dict[str, Any] | None]:
    """``(sequence, given_carry)`` of Scan's data or input shape (``None``: start at zeros)."""
    if isinstance(tree, dict):
        if "x" not in tree:
            raise ShapeError(
                f"Scan takes a sequence (batch, time, features), or a dict with the sequence as "
                f"'x' beside the initial carry (e.g. 'h'), got keys {sorted(tree)}"
            )
        return tree["x"], {key: value for key, value in tree.items() if key != "x"}
    return tree, None
