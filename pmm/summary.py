"""Model summaries: ``pmm.summary(model, input_shape)`` tabulates the module tree, and
``pmm.count_params(params)`` counts parameters.

The summary traces the model once on shape structs (``jax.eval_shape``: nothing is computed on
data) and records every child call its combinators make, so each row shows what the module
really received and gave. FLOPs are XLA's cost analysis of the compiled forward pass
(``training=False``), of the whole model and of each module compiled alone on what it received.
``docs/summary.md`` is the guide.

Examples
--------
>>> import pmm
>>> model = pmm.nn.Linear(features=4) >> pmm.nn.Tanh()
>>> print(pmm.summary(model, (3,), batch_size=4))
Module                                  Output      Own params  Params  Bytes  FLOPs
Sequential(Linear(features=4), Tanh())  float32[4]           0      16   64 B    112
  Sequential[0] > Linear(features=4)    float32[4]          16      16   64 B    112
  Sequential[1] > Tanh()                float32[4]           0       0    0 B      0
Total: 16 params (64 B); 112 FLOPs per batch of 4 (XLA cost analysis, forward pass)
"""

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pmm._calls import watching
from pmm._switch import CHECKS
from pmm._validation import check_bool, check_int
from pmm.checks import _format
from pmm.errors import module_label
from pmm.module import Module
from pmm.shapes import dims, probe_structs, shape_leaves, shape_of, validate_shape
from pmm.typing import DataShape, Params

_COLUMNS = ("Module", "Output", "Own params", "Params", "Bytes", "FLOPs")


def count_params(params: Params) -> int:
    """The number of real numbers in ``params``: a complex leaf counts twice (real and imaginary
    parts), so models of either kind compare by their degrees of freedom.

    Leaves may be arrays or ``jax.ShapeDtypeStruct`` (from ``jax.eval_shape(model.init, ...)``).

    Examples
    --------
    >>> import jax, jax.numpy as jnp, pmm
    >>> pmm.count_params({"w": jnp.zeros((3, 2)), "z": jnp.zeros(4, jnp.complex64)})
    14
    """
    return sum(_size(leaf) * (2 if _is_complex(leaf) else 1) for leaf in jax.tree.leaves(params))


def param_bytes(params: Params) -> int:
    """The bytes the leaves of ``params`` take in memory (arrays or shape structs)."""
    return sum(_size(leaf) * np.dtype(leaf.dtype).itemsize for leaf in jax.tree.leaves(params))


def _size(leaf: Any) -> int:
    return math.prod(leaf.shape)


def _is_complex(leaf: Any) -> bool:
    return bool(jnp.issubdtype(leaf.dtype, jnp.complexfloating))


@dataclasses.dataclass(frozen=True)
class SummaryRow:
    """One module of the tree: where it is, what it received and gave, what it holds and costs.

    ``path`` is the module path as errors print it (``Sequential[0] > Linear(features=8)``),
    ``depth`` its nesting, ``name`` the text of the table's first column (the last step of the
    path). ``input_shape`` and ``output_shape`` are typed shapes (``jax.ShapeDtypeStruct``
    leaves, no batch axis). ``params``/``bytes`` count the module's whole params, ``own_params``/
    ``own_bytes`` those not held by a child row. ``flops`` is XLA's count for the module compiled
    alone on its input (``None`` when not asked for).
    """

    path: str
    depth: int
    name: str
    module: Module
    input_shape: DataShape
    output_shape: DataShape
    params: int
    own_params: int
    bytes: int
    own_bytes: int
    flops: float | None


@dataclasses.dataclass(frozen=True)
class Summary:
    """The rows of ``pmm.summary``, root first then depth-first; ``str()`` is the table.

    ``params``, ``bytes`` and ``flops`` are the whole model's (the root row's); ``batch_size``
    is the batch the FLOPs were counted for.
    """

    rows: tuple[SummaryRow, ...]
    batch_size: int

    @property
    def params(self) -> int:
        """The model's parameter count (``count_params`` of its params)."""
        return self.rows[0].params

    @property
    def bytes(self) -> int:
        """The bytes of the model's params."""
        return self.rows[0].bytes

    @property
    def flops(self) -> float | None:
        """FLOPs of one forward pass on a batch of ``batch_size``, by XLA's cost analysis."""
        return self.rows[0].flops

    def __str__(self) -> str:
        body = [
            (
                "  " * row.depth + row.name,
                _format(row.output_shape),
                f"{row.own_params:,}",
                f"{row.params:,}",
                _human_bytes(row.bytes),
                "-" if row.flops is None else f"{row.flops:,.0f}",
            )
            for row in self.rows
        ]
        widths = [max(len(line[i]) for line in (_COLUMNS, *body)) for i in range(len(_COLUMNS))]
        lines = [
            "  ".join(
                cell.ljust(width) if column < 2 else cell.rjust(width)
                for column, (cell, width) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
            for line in (_COLUMNS, *body)
        ]
        flops = (
            f"{self.flops:,.0f} FLOPs per batch of {self.batch_size} "
            "(XLA cost analysis, forward pass)"
            if self.flops is not None
            else "FLOPs not counted"
        )
        total = f"Total: {self.params:,} params ({_human_bytes(self.bytes)}); {flops}"
        return "\n".join((*lines, total))

    __repr__ = __str__


def summary(
    model: Module, input_shape: DataShape, *, batch_size: int = 1, flops: bool = True
) -> Summary:
    """Tabulate ``model``'s module tree for input of ``input_shape`` (no batch axis).

    One row per module call the model makes (root first, then depth-first in call order): its
    path, output shape and dtype, own and total parameter count and bytes, and FLOPs. Nothing is
    computed on data: params come from ``jax.eval_shape(model.init, ...)`` and the rows from
    tracing the model on shape structs. ``print(summary)`` prints the table; ``summary.rows``
    gives the rows as ``SummaryRow`` data.

    Parameters
    ----------
    model
        Any module; combinators must call their children through ``pmm._calls.call_child``
        (every built-in does) for them to get rows.
    input_shape
        The per-sample ``DataShape``, every size known; ``jax.ShapeDtypeStruct`` leaves give
        other dtypes (integer ids).
    batch_size
        The batch the FLOPs are counted for (default 1: per sample).
    flops
        Count FLOPs by compiling the model and each module alone (default); ``False`` skips
        every compilation.

    Examples
    --------
    >>> import pmm
    >>> table = pmm.summary(pmm.nn.MLP(hidden=(4,), features=2), (3,))
    >>> table.params, [row.path for row in table.rows][2]
    (26, 'MLP(hidden=(4,), features=2) > Sequential[0] > Linear(features=4)')
    """
    validate_shape(input_shape)
    check_int(batch_size, "batch_size", "summary", minimum=1)
    check_bool(flops, "flops", "summary")
    if any(None in dims(leaf) for leaf in shape_leaves(input_shape)):
        raise ValueError(
            f"summary needs every size of input_shape known, but it is {input_shape!r}; give the "
            "sizes in place of None"
        )
    params, state = jax.eval_shape(lambda: model.init(jax.random.key(0), input_shape))
    calls = _recorded_calls(model, params, probe_structs(input_shape, batch_size, 0), state)
    return Summary(_rows(calls, flops), batch_size)


@dataclasses.dataclass
class _Call:
    """One recorded module call: the path segments above the module, and shape structs of what
    it received (with the batch axis) and gave."""

    segments: tuple[str, ...]
    key: Any
    module: Module
    params: Any
    data: Any
    state: Any
    output: Any = None


def _recorded_calls(model: Module, params: Any, data: Any, state: Any) -> list[_Call]:
    """Every module call of one traced forward pass of ``model``, root first, in call order."""
    root = _Call((), None, model, params, data, state)
    calls, stack = [root], []

    def watcher(owner: Any, key: Any, child: Any, arguments: tuple[Any, ...]) -> Any:
        module = getattr(child, "__self__", child)  # a composite passes its built module's apply
        if not isinstance(module, Module):
            return child(*arguments)
        segment = owner.segment(key)
        params, data, _, state, _ = arguments  # training and rng are the model's
        call = _Call((*stack, segment), key, module, *_structs((params, data, state)))
        calls.append(call)
        stack.append(segment)
        try:
            result = child(*arguments)
        finally:
            stack.pop()
        call.output = _structs(result[0])
        return result

    def forward(params: Any, data: Any, state: Any) -> Any:
        return model(params, data, False, state, None)[0]

    with watching(watcher), CHECKS(False):
        root.output = jax.eval_shape(forward, params, data, state)
    return calls


def _structs(tree: Any) -> Any:
    return jax.tree.map(lambda leaf: jax.ShapeDtypeStruct(leaf.shape, leaf.dtype), tree)


def _rows(calls: list[_Call], flops: bool) -> tuple[SummaryRow, ...]:
    """One row per distinct module path (a module called twice shows once)."""
    seen: set[str] = set()
    unique = []
    for call in calls:
        path = " > ".join((*call.segments, module_label(call.module)))
        if path not in seen:
            seen.add(path)
            unique.append((path, call))
    totals = [(count_params(call.params), param_bytes(call.params)) for _, call in unique]
    costs: dict[Any, float | None] = {}
    rows = []
    for index, (path, call) in enumerate(unique):
        depth = len(call.segments)
        children = _children(unique, index, depth)
        label = module_label(call.module)
        rows.append(
            SummaryRow(
                path=path,
                depth=depth,
                name=label if call.key is None else f"{call.segments[-1]} > {label}",
                module=call.module,
                input_shape=shape_of(call.data, typed=True),
                output_shape=shape_of(call.output, typed=True),
                params=totals[index][0],
                own_params=totals[index][0] - sum(totals[child][0] for child in children),
                bytes=totals[index][1],
                own_bytes=totals[index][1] - sum(totals[child][1] for child in children),
                flops=_flops(call, costs) if flops else None,
            )
        )
    return tuple(rows)


def _children(unique: list[tuple[str, _Call]], index: int, depth: int) -> list[int]:
    """Indices of the direct children of row ``index`` (the rows right below it, one deeper)."""
    found = []
    for later in range(index + 1, len(unique)):
        later_depth = len(unique[later][1].segments)
        if later_depth <= depth:
            break
        if later_depth == depth + 1:
            found.append(later)
    return found


def _flops(call: _Call, costs: dict[Any, float | None]) -> float | None:
    """XLA's FLOP count of ``call.module`` compiled alone on its input, once per distinct call."""
    leaves, structure = jax.tree.flatten((call.params, call.data, call.state))
    key = (call.module, tuple(leaves), structure)
    if key not in costs:
        lowered = jax.jit(call.module, static_argnums=2).lower(
            call.params, call.data, False, call.state, None
        )
        costs[key] = (lowered.compile().cost_analysis() or {}).get("flops", 0.0)
    return costs[key]


def _human_bytes(count: int) -> str:
    """``count`` bytes in B, KiB, MiB or GiB."""
    for unit in ("B", "KiB", "MiB"):
        if count < 1024:
            return f"{count} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return f"{count:.1f} GiB"
