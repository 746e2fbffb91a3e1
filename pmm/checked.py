"""``pmm.checked(model)``: the same model, with every call of its subtree shape-checked.

A checked model is a module of its own class (``Checked``): hashable, equal only to another
checked copy of the same model, so ``jax.jit`` compiles it separately and the plain model's
compiled code stays unchecked. It needs no switch and changes nothing for other models or
threads. Its params, state, shapes and errors are the model's own (errors name the model's path,
not ``Checked``), and ``pmm.save`` writes the plain model: a loaded file gives the unchecked
model back (wrap it again to check it).

``pmm.checked(model, input_shape=...)`` also declares the shape of one sample, so that every call
must bring ``(batch, *input_shape)``. That catches what no other check can: a parameterless
model (``Flatten``, ``Constant``) given one sample without its batch axis, as a per-example
``jax.vmap`` does, cannot tell that sample from a batch.

Examples
--------
>>> import jax, jax.numpy as jnp, pmm
>>> model = pmm.nn.Linear(features=2) >> pmm.nn.Tanh()
>>> params, state = model.init(jax.random.key(0), (3,))
>>> pmm.checked(model)(params, jnp.ones((4, 5)), False, state, None)
Traceback (most recent call last):
pmm.errors.ShapeError: Sequential[0] > Linear(features=2): the input does not match ...
"""

from typing import Any

import jax

from pmm._switch import CHECKS
from pmm.errors import ShapeError
from pmm.module import Module
from pmm.shapes import describe, dims, is_shape, validate_shape
from pmm.typing import AnyData, ArrayDataShape, DataShape, Params, State


class Checked(Module):
    """``model`` with shape checks on for every call of its subtree (see ``pmm.checks``).

    Params, state and shapes are ``model``'s. Build it with ``pmm.checked(model)``. With
    ``input_shape`` (one sample's shape, a tuple or a ``jax.ShapeDtypeStruct``; ``None`` for
    any size), every call must also bring array data ``(batch, *input_shape)``.

    Examples
    --------
    >>> checked = pmm.checked(pmm.nn.Tanh())
    >>> checked == pmm.checked(pmm.nn.Tanh()), checked == pmm.nn.Tanh()
    (True, False)
    """

    model: Module
    input_shape: ArrayDataShape | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.model, Module):
            raise ValueError(
                f"field 'model' of Checked is a {type(self.model).__name__}, not a pmm.Module"
            )
        if self.input_shape is not None:
            if not is_shape(self.input_shape):
                raise ValueError(
                    f"field 'input_shape' of Checked is {self.input_shape!r}, not the shape of "
                    "one array sample; give a tuple such as (28, 28, 1) or a "
                    "jax.ShapeDtypeStruct (PyTree data is checked by the model's own checks)"
                )
            validate_shape(self.input_shape)

    def children(self) -> tuple[tuple[Any, str, Module], ...]:
        return ((None, self.segment(None), self.model),)

    def init(self, rng: Any, input_shape: DataShape) -> tuple[Params, State]:
        return self.model.init(rng, input_shape)

    def apply(
        self, params: Params, data: AnyData, training: bool, state: State, rng: Any
    ) -> tuple[AnyData, State]:
        if self.input_shape is not None:
            self._check_samples(data)
        with CHECKS(True):
            return self.model(params, data, training, state, rng)

    def output_shape(self, input_shape: DataShape) -> DataShape:
        return self.model.output_shape(input_shape)

    def _check_samples(self, data: AnyData) -> None:
        """``ShapeError`` unless ``data`` is one array ``(batch, *input_shape)``."""
        declared = dims(self.input_shape)
        one_array = jax.tree_util.treedef_is_leaf(jax.tree.structure(data))
        sample = tuple(data.shape[1:]) if one_array else None
        if (
            sample is not None
            and len(sample) == len(declared)
            and all(want is None or want == got for want, got in zip(declared, sample, strict=True))
        ):
            return
        hint = "give data (batch, *input_shape)"
        if sample is not None and len(sample) + 1 == len(declared):
            hint = (
                "the data has no batch axis, as one sample of a per-example jax.vmap has; add it "
                "with x[None] (and take it off the output with [0])"
            )
        raise ShapeError(
            f"the data is {describe(data)}, but this checked model was declared "
            f"for samples of shape {declared} after a leading batch axis; {hint}"
        )


def checked(model: Module, input_shape: ArrayDataShape | None = None) -> Checked:
    """``model`` as a ``Checked`` module: every call of its subtree is shape-checked.

    Parameters
    ----------
    model
        Any module. A checked one is returned as it is when ``input_shape`` is not given, and
        otherwise unwrapped first.
    input_shape
        One sample's shape (a tuple or a ``jax.ShapeDtypeStruct``), when every call must bring
        array data ``(batch, *input_shape)``; ``None`` in it matches any size. Needed to catch a
        parameterless model called on one sample without its batch axis (per-example
        ``jax.vmap``), which the other checks cannot tell from a batch.

    Returns
    -------
    Checked
        A module with ``model``'s params, state and shapes; ``jax.jit`` compiles it on its own,
        with the checks running at trace time.

    Examples
    --------
    >>> model = pmm.nn.Linear(features=2)
    >>> params, state = model.init(jax.random.key(0), (3,))
    >>> pmm.checked(model)(params, jnp.ones((4, 3)), False, state, None)[0].shape
    (4, 2)
    >>> flatten = pmm.checked(pmm.nn.Flatten(), input_shape=(2, 3))
    >>> jax.vmap(lambda x: flatten((), x, False, (), None)[0])(jnp.ones((5, 2, 3)))
    Traceback (most recent call last):
    pmm.errors.ShapeError: Checked(...): the data is float32[2,3], but ... add it with x[None] ...
    """
    if isinstance(model, Checked):
        if input_shape is None:
            return model
        model = model.model
    return Checked(model, input_shape)
