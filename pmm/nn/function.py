"""``Function(name)``: a registered pure function as a parameterless module.

For the one-liners research code is full of (``lambda x: x**2``) without writing a class. The
module holds only the function's registered name (see ``pmm.register_function``), so files that
use it stay safe: loading looks the name up and never imports code named in the file.

Examples
--------
>>> _ = pmm.register_function(lambda x: x**2, "doc.function.square")
>>> Function("doc.function.square")((), jnp.array([[1.0, -3.0]]))[0]
Array([[1., 9.]], dtype=float32)
"""

from typing import Any

from pmm.functions import registered_function
from pmm.module import Parameterless
from pmm.typing import AnyData, Params, State


class Function(Parameterless):
    """The function registered as ``name``, applied to the whole data: ``fn(data)``.

    ``fn`` receives the data as given, batch axis included (an array, or the whole PyTree), and
    must return data with the same leading batch axis; it must be pure and traceable by JAX.
    No params, no state; ``training`` and ``rng`` are not passed on. Shapes: whatever ``fn``
    gives (``output_shape`` traces it, computing nothing). Data of any dtype is accepted (the
    function decides). An unknown name fails at construction, and so at load, saying to
    register it first.

    Examples
    --------
    >>> _ = pmm.register_function(lambda x: x.sum(-1, keepdims=True), "doc.function.total")
    >>> model = pmm.nn.Linear(features=3) >> Function("doc.function.total")
    >>> model.output_shape((2,))
    (1,)
    """

    name: str

    def __post_init__(self) -> None:
        super().__post_init__()
        registered_function(self.name)

    def apply(
        self, params: Params, data: AnyData, training: bool, state: State, rng: Any
    ) -> tuple[AnyData, State]:
        return registered_function(self.name)(data), state
