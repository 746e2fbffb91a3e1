"""``pmm.checked(model)``: the same model, with every call of its subtree shape-checked.

A checked model is a module of its own class (``Checked``): hashable, equal only to another
checked copy of the same model, so ``jax.jit`` compiles it separately and the plain model's
compiled code stays unchecked. It needs no switch and changes nothing for other models or
threads. Its params, state, shapes and errors are the model's own (errors name the model's path,
not ``Checked``), and ``pmm.save`` writes the plain model: a loaded file gives the unchecked
model back (wrap it again to check it).

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

from pmm._switch import CHECKS
from pmm.module import Module
from pmm.typing import AnyData, DataShape, Params, State


class Checked(Module):
    """``model`` with shape checks on for every call of its subtree (see ``pmm.checks``).

    Params, state and shapes are ``model``'s. Build it with ``pmm.checked(model)``.

    Examples
    --------
    >>> checked = pmm.checked(pmm.nn.Tanh())
    >>> checked == pmm.checked(pmm.nn.Tanh()), checked == pmm.nn.Tanh()
    (True, False)
    """

    model: Module

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.model, Module):
            raise ValueError(
                f"field 'model' of Checked is a {type(self.model).__name__}, not a pmm.Module"
            )

    def children(self) -> tuple[tuple[Any, str, Module], ...]:
        return ((None, self.segment(None), self.model),)

    def init(self, rng: Any, input_shape: DataShape) -> tuple[Params, State]:
        return self.model.init(rng, input_shape)

    def apply(
        self, params: Params, data: AnyData, training: bool, state: State, rng: Any
    ) -> tuple[AnyData, State]:
        with CHECKS(True):
            return self.model(params, data, training, state, rng)

    def output_shape(self, input_shape: DataShape) -> DataShape:
        return self.model.output_shape(input_shape)


def checked(model: Module) -> Checked:
    """``model`` as a ``Checked`` module: every call of its subtree is shape-checked.

    Parameters
    ----------
    model
        Any module (a checked one is returned as it is).

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
    """
    return model if isinstance(model, Checked) else Checked(model)
