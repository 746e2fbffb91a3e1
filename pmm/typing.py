"""The typing spec: jaxtyping aliases for everything that flows through a pmm model.

Each alias works as an annotation (checked by ``jaxtyping.jaxtyped(typechecker=beartype)``) and
with ``beartype.door.is_bearable``. Named dimensions (``batch_size``, ``?*shape``) and the named
tree structures (``DataStructure``) are bound once per checked call, so two arguments annotated
``DataFixed`` must share their structure, batch size and per-leaf shapes.

Examples
--------
>>> import jax.numpy as jnp
>>> from beartype.door import is_bearable
>>> is_bearable({"x": jnp.ones((8, 3))}, Data)
True
>>> is_bearable(jnp.ones((8, 3), dtype=jnp.int32), ArrayData)
False
"""

# pyright: reportUndefinedVariable=false
# (jaxtyping names tree structures with strings such as " DataStructure", which pyright reads as
# forward references; the leading space already keeps ruff from doing the same.)

from collections.abc import Callable
from typing import Any, TypeAlias

import jax
from jaxtyping import Array, Complex, Inexact, Num, PyTree, Real, Shaped

#: PyTree whose leaves are inexact (float or complex) JAX arrays of any shape.
Params: TypeAlias = PyTree[Inexact[Array, "..."]]
#: Params held as a tuple, one entry per child (``Sequential``, positional ``Parallel``).
TupleParams: TypeAlias = tuple[Params, ...]
#: Params held as a list.
ListParams: TypeAlias = list[Params]
#: Params held as a dict with string keys (most layers, keyword ``Parallel``).
DictParams: TypeAlias = dict[str, Params]

#: A module's configuration, its dataclass fields by name; values ideally JSON-serialisable.
HyperParams: TypeAlias = dict[str, Any]

#: One inexact array with a leading batch axis.
ArrayData: TypeAlias = Inexact[Array, "batch_size ..."]
#: A PyTree of inexact arrays sharing one leading batch size; the rest may vary between leaves.
Data: TypeAlias = PyTree[Inexact[Array, "batch_size ..."]] | ArrayData

#: Data whose tree structure and per-leaf shapes are fixed within one checked call.
DataFixed: TypeAlias = PyTree[Inexact[Array, "batch_size ?*shape"], " DataStructure"]
#: ``DataFixed`` with real floating leaves.
RealDataFixed: TypeAlias = PyTree[Real[Array, "batch_size ?*shape"], " DataStructure"]
#: ``DataFixed`` with complex leaves.
ComplexDataFixed: TypeAlias = PyTree[Complex[Array, "batch_size ?*shape"], " DataStructure"]
#: ``DataFixed`` for a single sample: no batch axis.
BatchlessDataFixed: TypeAlias = PyTree[Inexact[Array, "?*shape"], " DataStructure"]
#: ``BatchlessDataFixed`` with real floating leaves.
BatchlessRealDataFixed: TypeAlias = PyTree[Real[Array, "?*shape"], " DataStructure"]
#: ``BatchlessDataFixed`` with complex leaves.
BatchlessComplexDataFixed: TypeAlias = PyTree[Complex[Array, "?*shape"], " DataStructure"]

#: One array's shape without the batch axis; ``None`` marks a size the module does not fix.
ArrayDataShape: TypeAlias = tuple[int | None, ...]
#: The shape of ``Data`` without the batch axis: a PyTree whose leaves are ``ArrayDataShape``
#: (see ``pmm.shapes.is_shape`` for the rule that tells a shape from a tuple of shapes).
DataShape: TypeAlias = PyTree[tuple[int | None, ...]] | ArrayDataShape

#: PyTree of numeric arrays (ints allowed) whose structure, shapes and dtypes never change.
State: TypeAlias = PyTree[Num[Array, "..."]]
#: State held as a tuple, one entry per child.
TupleState: TypeAlias = tuple[State, ...]
#: State held as a list.
ListState: TypeAlias = list[State]
#: State held as a dict with string keys.
DictState: TypeAlias = dict[str, State]

#: The pure callable every module is, ``(params, data, training, state, rng) -> (data, state)``.
ModuleCallable: TypeAlias = Callable[[Params, Data, bool, State, Any], tuple[Data, State]]

# Extensions beside the spec's aliases: data of any dtype, and shapes that carry dtypes.

#: (Extension) Like ``Data``, but leaves may be of any dtype (integer ids, bool masks included).
#: Modules whose ``apply`` takes such data annotate it with this (combinators do); shape checks
#: refuse integer and bool data wherever a module's annotations do not admit it.
AnyData: TypeAlias = PyTree[Shaped[Array, "batch_size ..."]] | Shaped[Array, "batch_size ..."]
#: (Extension) A ``DataShape`` whose leaves may also be ``jax.ShapeDtypeStruct`` (shape without
#: the batch axis plus a dtype, e.g. ``jax.ShapeDtypeStruct((12,), jnp.int32)``); a plain tuple
#: leaf keeps its meaning, floating data of the default float dtype.
TypedDataShape: TypeAlias = (
    PyTree[tuple[int | None, ...] | jax.ShapeDtypeStruct] | ArrayDataShape | jax.ShapeDtypeStruct
)
