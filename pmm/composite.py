"""``pmm.Composite``: a module defined as another module, usually a Sequential of primitives.

A composite's spec keeps its own readable hyperparameters (``MLP(hidden=(64, 64))``) while its
``init``, ``apply`` and ``output_shape`` are those of the module ``build()`` returns, so its
params are that module's. The built module is cached per spec at module level (specs are
hashable) while some equal spec lives, so the spec itself still holds nothing but
hyperparameters.

Examples
--------
>>> import pmm
>>> class TwoLayer(pmm.Composite):
...     width: int = 8
...     def build(self):
...         return pmm.nn.Linear(features=self.width) >> pmm.nn.Tanh()
>>> TwoLayer().output_shape((3,))
(8,)
"""

import abc
import weakref
from typing import Any

from pmm._calls import call_child, traced
from pmm.errors import located, module_label
from pmm.module import Module
from pmm.typing import AnyData, DataShape, Params, State


class Composite(Module):
    """Base of modules whose computation is that of another module, ``build()``.

    Errors inside name the composite first, then the path inside its built module, e.g.
    ``MLP(hidden=(4,)) > Sequential[0] > Linear(features=4)``.

    Examples
    --------
    >>> import pmm
    >>> class Block(pmm.Composite):
    ...     features: int = 4
    ...     def build(self):
    ...         return pmm.Residual(pmm.nn.Linear(features=self.features) >> pmm.nn.GELU())
    >>> Block().output_shape((4,)), Block().built == Block().build()
    ((4,), True)
    """

    @abc.abstractmethod
    def build(self) -> Module:
        """The module this composite stands for, built from its hyperparameters."""

    @property
    def built(self) -> Module:
        """``build()``, made once per distinct spec."""
        return _built(self)

    def children(self) -> tuple[tuple[Any, str, Module], ...]:
        return ((None, self.segment(None), self.built),)

    def segment(self, key: Any) -> str:
        """Paths name the built module's parts after the composite itself, by its label:
        ``MLP(hidden=(4,)) > Sequential[0] > ...`` (``MLP(...)`` when the repr is long)."""
        return module_label(self)

    def init(self, rng: Any, input_shape: DataShape) -> tuple[Params, State]:
        with located(self.segment(None), self.built):
            return self.built.init(rng, input_shape)

    def apply(
        self, params: Params, data: AnyData, training: bool, state: State, rng: Any
    ) -> tuple[AnyData, State]:
        # The built module's apply, not its call: the composite's own call already checked.
        return call_child(
            self, None, self.built.apply, traced(data), params, data, training, state, rng
        )

    def output_shape(self, input_shape: DataShape) -> DataShape:
        with located(self.segment(None), self.built):
            return self.built.output_shape(input_shape)


#: The built module of each live composite spec; equal specs share one entry, and an entry goes
#: once no spec equal to its key is left (a refused, huge spec from a file is not kept).
_BUILT: "weakref.WeakKeyDictionary[Composite, Module]" = weakref.WeakKeyDictionary()


def _built(composite: Composite) -> Module:
    try:
        return _BUILT[composite]
    except KeyError:
        built = _BUILT[composite] = composite.build()
        return built
