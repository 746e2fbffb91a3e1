"""Output shapes found by tracing: the default ``Module.output_shape``, and dtypes for typed
questions answered by an ``output_shape`` override.

``jax.eval_shape`` runs ``init`` and ``apply`` on shape structs, so nothing is computed. Sizes
given as ``None`` are probed twice, with two different sizes; output sizes that follow them come
back as ``None``. Answers are in the form of the question: tuples for a tuple ``input_shape``, and
``jax.ShapeDtypeStruct`` leaves (where every size is known) for a typed one.
"""

import functools
from collections.abc import Callable
from typing import Any

import jax

from pmm._calls import returned
from pmm.errors import ShapeError
from pmm.shapes import (
    dims,
    is_typed,
    leaf_dtype,
    map_shapes,
    probe_structs,
    shape_leaves,
    shape_of,
)
from pmm.typing import DataShape

#: Sizes substituted for ``None`` when a module is probed; a size that differs between the
#: probes is reported as ``None`` again.
_UNKNOWN_PROBE_SIZES = (5, 7)
_PROBE_BATCH_SIZE = 2


def traced_output_shape(module: Any, input_shape: DataShape) -> DataShape:
    """The shape of ``module``'s output for input of ``input_shape``, by ``jax.eval_shape``."""
    unknown = any(None in dims(leaf) for leaf in shape_leaves(input_shape))
    sizes = _UNKNOWN_PROBE_SIZES if unknown else _UNKNOWN_PROBE_SIZES[:1]
    probes = [_probe(module, input_shape, size) for size in sizes]
    typed = is_typed(input_shape)
    return jax.tree.map(lambda *structs: _agreed(structs, typed), *probes)


def _agreed(structs: tuple[jax.ShapeDtypeStruct, ...], typed: bool) -> Any:
    """One output leaf from its probes: sizes equal in all of them, ``None`` where they differ."""
    first = structs[0]
    sizes = tuple(
        size if all(struct.shape[axis] == size for struct in structs) else None
        for axis, size in enumerate(first.shape)
    )
    if typed and None not in sizes:
        return jax.ShapeDtypeStruct(sizes, first.dtype)
    return sizes


def _probe(module: Any, input_shape: DataShape, unknown: int) -> Any:
    """The typed output shape of ``module`` with ``None`` sizes of the input set to ``unknown``."""
    concrete = map_shapes(
        lambda leaf: (
            tuple(unknown if dim is None else dim for dim in leaf)
            if isinstance(leaf, tuple)
            else leaf
        ),
        input_shape,
    )

    def run(data: Any) -> Any:
        params, state = module._probe_params(concrete)
        return returned(module, module.apply(params, data, False, state, None))[0]

    output = jax.eval_shape(run, probe_structs(concrete, _PROBE_BATCH_SIZE, unknown))
    return shape_of(output, typed=True)


def answering_in_kind(method: Callable[[Any, DataShape], DataShape]) -> Callable:
    """Wrap an ``output_shape`` override so that a typed question gets a typed answer.

    An override may answer in tuples even when asked with structs (built-in layers compute
    sizes only); the dtypes of such leaves are then found by tracing the module.
    """

    @functools.wraps(method)
    def output_shape(self: Any, input_shape: DataShape) -> DataShape:
        answer = method(self, input_shape)
        if not is_typed(input_shape) or all(map(_settled, shape_leaves(answer))):
            return answer
        traced = traced_output_shape(self, input_shape)
        try:
            return map_shapes(_with_dtype, answer, traced)
        except ValueError:
            raise ShapeError(
                f"output_shape({input_shape}) gives {answer}, but apply gives {traced}; make "
                "apply and output_shape agree"
            ) from None

    output_shape.answers_in_kind = True  # type: ignore[attr-defined]
    return output_shape


def _settled(leaf: Any) -> bool:
    """A leaf that needs no dtype: a struct already, or a tuple with an unknown size."""
    return isinstance(leaf, jax.ShapeDtypeStruct) or None in leaf


def _with_dtype(leaf: Any, traced: Any) -> Any:
    if _settled(leaf):
        return leaf
    return jax.ShapeDtypeStruct(dims(leaf), leaf_dtype(traced))
