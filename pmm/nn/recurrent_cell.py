"""Recurrent cells: modules that compute one time step, the pieces ``pmm.nn.Scan`` runs.

A cell's data is one time step and its carry in one dict, ``{"x": (batch, in), "h": (batch,
features), ...}``; its output is the new carry, a dict with the same carry keys. Every carry has
``"h"``, the step's output (an LSTM adds its cell state ``"c"``). ``carry_shape`` says which
carry a cell needs, so that ``Scan`` can start from zeros.

Examples
--------
>>> cell = pmm.nn.GRUCell(features=4)
>>> cell.carry_shape((3,))
{'h': (4,)}
>>> cell.output_shape({"x": (3,), "h": (4,)})
{'h': (4,)}
"""

import abc
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from pmm._dtypes import as_dtype, canonical_real_dtype, check_x64, compute_dtype
from pmm._validation import array_shape, check_int
from pmm.errors import ShapeError
from pmm.module import Module
from pmm.nn.initializers import check_initializer, initialize
from pmm.shapes import dims, shape_of, validate_shape
from pmm.typing import ArrayDataShape, DataShape, DictParams, State


class RecurrentCell(Module):
    """Base of the modules ``pmm.nn.Scan`` runs along a sequence: one step of a recurrence.

    Data ``{"x": (batch, *in), **carry}`` to the new carry ``{name: (batch, *size)}``, where the
    carry's names and per-sample shapes are ``carry_shape(in)`` and include ``"h"``, the step's
    output. A subclass writes ``init`` (taking ``input_shape`` in the same dict form),
    ``apply`` and ``carry_shape``; ``output_shape`` is the carry's shape.

    Examples
    --------
    >>> issubclass(pmm.nn.LSTMCell, RecurrentCell)
    True
    """

    @abc.abstractmethod
    def carry_shape(self, x_shape: ArrayDataShape) -> dict[str, ArrayDataShape]:
        """The carry's per-sample shapes by name (``"h"`` among them) for steps of ``x_shape``."""

    def output_shape(self, input_shape: DataShape) -> DataShape:
        return self.carry_shape(self.step_input_shape(input_shape))

    def step_input_shape(self, input_shape: DataShape) -> ArrayDataShape:
        """The per-sample shape of ``x`` in ``input_shape``; ``ShapeError`` unless
        ``input_shape`` is ``{"x": ..., **carry}`` with the carry this cell needs."""
        validate_shape(input_shape)
        name = type(self).__name__
        if not isinstance(input_shape, dict) or "x" not in input_shape:
            raise ShapeError(
                f"{self!r} computes one time step of data {{'x': (batch, in), 'h': (batch, "
                f"features), ...}}, so input_shape is a dict like that, got {input_shape!r}; to "
                f"run the cell along sequences (batch, time, in) use pmm.nn.Scan({name}(...))"
            )
        x_shape = array_shape(input_shape["x"], name)
        expected = self.carry_shape(x_shape)
        given = {key: dims(value) for key, value in input_shape.items() if key != "x"}
        if given != expected:
            raise ShapeError(
                f"{self!r} needs the carry {expected} beside 'x' {x_shape}, but input_shape "
                f"holds {given}; give the carry this cell computes"
            )
        return x_shape


class GatedCell(RecurrentCell):
    """The fields and the weights shared by ``GRUCell`` and ``LSTMCell``.

    Weights ``"input_weight": (in, gates * features)`` drawn by ``kernel_init`` (``fan_in = in``)
    and ``"hidden_weight": (features, gates * features)`` drawn by ``recurrent_init``
    (``fan_in = features``), each gate's block ``(·, features)`` drawn on its own, so that with
    ``"orthogonal"`` every gate's hidden block is an orthogonal matrix (as in Flax). Biases are
    the subclass's (``biases``), and so is the step (``step``, called by ``apply`` once the data
    has the form ``{"x": ..., **carry}``). Real dtypes only.

    Examples
    --------
    >>> pmm.nn.GRUCell(features=2).gates, pmm.nn.LSTMCell(features=2).gates
    (3, 4)
    """

    #: How many gate blocks the weights hold, side by side in their columns.
    gates: ClassVar[int]

    features: int
    dtype: str = "float32"
    kernel_init: str = "lecun_normal"
    recurrent_init: str = "orthogonal"

    def __post_init__(self) -> None:
        name = type(self).__name__
        object.__setattr__(self, "dtype", canonical_real_dtype(self.dtype, "dtype", name))
        super().__post_init__()
        check_int(self.features, "features", name, minimum=1)
        check_initializer(self.kernel_init, "kernel_init", name)
        check_initializer(self.recurrent_init, "recurrent_init", name)

    def carry_shape(self, x_shape: ArrayDataShape) -> dict[str, ArrayDataShape]:
        return {"h": (self.features,)}

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        x_shape = self.step_input_shape(input_shape)
        if len(x_shape) != 1 or x_shape[0] is None:
            raise ShapeError(
                f"{self!r} takes 'x' as a vector of known size per sample, (batch, in), but "
                f"its per-sample shape is {x_shape}; flatten it first (pmm.nn.Flatten)"
            )
        input_key, hidden_key = jax.random.split(rng)
        params = {
            "input_weight": self._gate_blocks(self.kernel_init, input_key, x_shape[0]),
            "hidden_weight": self._gate_blocks(self.recurrent_init, hidden_key, self.features),
        }
        return {**params, **self.biases()}, ()

    def apply(
        self,
        params: DictParams,
        data: dict[str, Float[Array, " batch_size _"]],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[dict[str, Float[Array, " batch_size features"]], State]:
        self.step_input_shape(shape_of(data))
        computed = {
            name: as_dtype(leaf, compute_dtype(leaf, self.dtype)) for name, leaf in data.items()
        }
        return self.step(params, computed), state

    @abc.abstractmethod
    def step(self, params: DictParams, data: dict[str, jax.Array]) -> dict[str, jax.Array]:
        """The new carry from the step's ``data``, ``{"x": ..., **carry}``."""

    @abc.abstractmethod
    def biases(self) -> DictParams:
        """The bias params at initialisation, by name."""

    def _gate_blocks(self, name: str, key: Any, fan_in: int) -> jax.Array:
        """``(fan_in, gates * features)``: one block per gate, each drawn by ``name`` alone."""
        shape = (fan_in, self.features)
        blocks = [
            initialize(name, k, shape, self.dtype, fan_in=fan_in, fan_out=self.features)
            for k in jax.random.split(key, self.gates)
        ]
        return jnp.concatenate(blocks, axis=1)
