"""Shape-checked debugging mode: every module call checks the shapes that flow through it.

While checks are on in a thread (``pmm.set_shape_checks``, ``with pmm.shape_checks():``,
``PMM_SHAPE_CHECKS=1``), or inside a ``pmm.checked(model)``, ``Module.__call__`` runs each
module's ``apply`` (children inside combinators included) through ``checked_call``, which raises
``pmm.ShapeError`` naming the module's path in the model when

- the data leaves do not share one batch size, or are not JAX arrays with a batch axis;
- a leaf is integer or bool data where the module's ``apply`` does not declare such data in its
  annotations (``Int[Array, "batch seq"]``, ``pmm.typing.AnyData``): unannotated modules take
  float or complex data only;
- ``apply``'s jaxtyping annotations (``pmm.typing`` aliases, dimension names such as
  ``Float[Array, "batch in"]``) are violated, checked by ``jaxtyped(typechecker=beartype)``;
- the input is not what the params were built for (a missing batch axis is named as such), or
  the params/state trees do not have the structure, shapes and dtypes ``init`` gives;
- the output does not match ``output_shape``, or changes the batch size;
- the returned state does not keep the input state's structure, shapes and dtypes.

Under ``jax.jit`` the checks run once, at trace time. When checks are off, ``__call__`` calls
``apply`` directly: no wrapper, the same jaxpr. The setting is part of JAX's jit cache key, so a
function jitted earlier is traced again the first time it runs with the other setting, and the
compiled code of both settings is kept (no cache is cleared).

Examples
--------
>>> import jax, jax.numpy as jnp, pmm
>>> model = pmm.nn.Linear(features=3) >> pmm.nn.Linear(features=2)
>>> params, state = model.init(jax.random.key(0), (4,))
>>> with pmm.shape_checks():
...     model(params, jnp.ones((8, 5)), False, state, None)
Traceback (most recent call last):
pmm.errors.ShapeError: Sequential[0] > Linear(features=3): the input does not match ...
"""

import contextlib
import functools
import inspect
import re
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from beartype import beartype
from jaxtyping import TypeCheckError, jaxtyped

import pmm.module
from pmm._calls import returned, traced
from pmm._switch import set_shape_checks, shape_checks, shape_checks_enabled
from pmm.errors import ShapeError, module_label, module_path
from pmm.shapes import dims, is_shape, shape_leaves
from pmm.typing import Data, DataShape, Params, State

__all__ = ["checked_call", "set_shape_checks", "shape_checks", "shape_checks_enabled"]

#: How many (module, input shapes) results of ``init`` and ``output_shape`` are remembered.
_CACHE_SIZE = 4096


def checked_call(
    module: "pmm.module.Module", params: Params, data: Data, training: bool, state: State, rng: Any
) -> tuple[Data, State]:
    """``module.apply(params, data, training, state, rng)``, checked; raises ``ShapeError``.

    Called by ``Module.__call__`` while checks are on, which labels errors with the module.
    Errors that a checked child raised (they carry a module path already) pass through as they are.
    """
    batch_size = _batch_size(data, "input")
    _check_dtypes(module, data, "data", "input")
    scope = (
        jax.named_scope(module_label(module))
        if traced(data) and not module.children()
        else contextlib.nullcontext()
    )
    try:
        with scope:
            result = _annotated_apply(type(module))(module, params, data, training, state, rng)
    except Exception as error:
        if module_path(error):
            raise
        mismatch = _built_for_mismatch(module, params, state, data)
        if mismatch:
            raise ShapeError(mismatch) from error
        if isinstance(error, TypeCheckError):
            _refuse_non_pair(error, module, params, data, training, state, rng)
            raise ShapeError(
                _annotation_message(error, module, params, data, training, state, rng)
            ) from None
        raise
    output, new_state = returned(module, result)
    mismatch = _built_for_mismatch(module, params, state, data)
    if mismatch:
        raise ShapeError(mismatch)
    _check_dtypes(module, output, "return", "output")
    _check_output(module, data, batch_size, output)
    _check_state(state, new_state)
    return output, new_state


def _batch_size(data: Data, what: str) -> int:
    """The one batch size of ``data``'s leaves; ``ShapeError`` unless they are JAX arrays with a
    leading batch axis of one size."""
    leaves = jax.tree_util.tree_flatten_with_path(data)[0]
    if not leaves:
        raise ShapeError(f"the {what} holds no arrays; data is a PyTree of arrays")
    for path, leaf in leaves:
        where = _where(what, path)
        if not isinstance(leaf, jax.Array):
            raise ShapeError(
                f"the {where} is a {type(leaf).__name__}, not a JAX array; "
                "pass jnp.asarray(x) with a leading batch axis"
            )
        if leaf.ndim == 0:
            raise ShapeError(
                f"the {where} is {_format(leaf)}, with no batch axis; data always has a leading "
                "batch axis (x[None] makes a batch of one)"
            )
    if len({leaf.shape[0] for _, leaf in leaves}) > 1:
        raise ShapeError(
            f"the {what} leaves have different batch sizes: {_format(data)}; every leaf needs the "
            "same leading batch axis"
        )
    return leaves[0][1].shape[0]


def _where(what: str, path: Any) -> str:
    return f"{what} leaf data{jax.tree_util.keystr(path)}" if path else what


def _check_dtypes(module: Any, data: Data, parameter: str, what: str) -> None:
    """``ShapeError`` for integer or bool leaves that ``apply`` does not declare in its
    annotation of ``parameter`` (``"data"`` or ``"return"``); declared ones jaxtyping checks."""
    if _declared(type(module), parameter):
        return
    for path, leaf in jax.tree_util.tree_flatten_with_path(data)[0]:
        if not jnp.issubdtype(leaf.dtype, jnp.inexact):
            apply = f"{type(module).__name__}.apply"
            declare = (
                "annotate its data parameter with the dtype it takes (e.g. "
                'Int[Array, "batch seq"], or pmm.typing.AnyData for any dtype)'
                if parameter == "data"
                else "annotate its return value with the dtype it gives"
            )
            raise ShapeError(
                f"the {_where(what, path)} is {_format(leaf)}, but {apply} does not declare "
                f"{leaf.dtype} data: unannotated modules take float or complex data; pass "
                f"x.astype(jnp.float32), or {declare}"
            )


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _declared(cls: type, parameter: str) -> bool:
    """Whether ``cls.apply`` annotates ``parameter`` (``"data"``, or ``"return"``)."""
    signature = inspect.signature(cls.apply)
    if parameter == "return":
        return signature.return_annotation is not inspect.Signature.empty
    found = signature.parameters.get(parameter)
    return found is not None and found.annotation is not inspect.Parameter.empty


def _refuse_non_pair(error: TypeCheckError, module: Any, *arguments: Any) -> None:
    """Raise ``ApplyReturnError`` when the annotation that failed is the return value's and
    ``apply`` did not return a ``(data, state)`` pair (the clearer of the two complaints)."""
    if "checking the return value" in str(error):
        returned(module, type(module).apply(module, *arguments))


def _built_for_mismatch(module: Any, params: Params, state: State, data: Data) -> str | None:
    """Why ``params``/``state`` are not what ``module.init`` gives for ``data``'s shape, or None.

    When they are what ``init`` gives for the shape of the *whole* data, the data lacks its
    batch axis, and the message says so.
    """
    key = _shape_key(data, batched=True)
    try:
        mismatch = _mismatch(module, params, state, key)
    except Exception as error:
        if _fits_whole(module, params, state, data):
            return _missing_batch_axis(data)
        raise ShapeError(
            f"the data {_format(data)}, per-sample shape {_input_shape(key)}, does not fit "
            f"this module: {error}"
        ) from error
    if mismatch and _fits_whole(module, params, state, data):
        return _missing_batch_axis(data)
    return mismatch


def _fits_whole(module: Any, params: Params, state: State, data: Data) -> bool:
    """Whether ``params``/``state`` were built for the shape of ``data`` as one sample."""
    if not jax.tree.leaves((params, state)):
        return False
    try:
        return _mismatch(module, params, state, _shape_key(data, batched=False)) is None
    except Exception:
        return False


def _missing_batch_axis(data: Data) -> str:
    return (
        f"the data {_format(data)} has no batch axis: the params were built for samples of "
        "that whole shape. Data always has a leading batch axis: pass x[None] for one sample "
        "(under jax.vmap over samples, call the model on x[None] and take [0] of the output)"
    )


def _mismatch(module: Any, params: Params, state: State, key: Any) -> str | None:
    input_shape = _input_shape(key)
    expected = _init_structs(module, key)
    for name, actual, built in zip(("params", "state"), (params, state), expected, strict=True):
        if not jax.tree.leaves(actual) and not jax.tree.leaves(built):
            continue
        if jax.tree.structure(actual) != jax.tree.structure(built):
            return (
                f"the {name} tree is {_format(actual)}, but init gives {_format(built)} for "
                f"input shape {input_shape}; pass the {name} that this module's init returned"
            )
        for (path, got), want in zip(
            jax.tree_util.tree_flatten_with_path(actual)[0], jax.tree.leaves(built), strict=True
        ):
            if jnp.shape(got) != want.shape or jnp.result_type(got) != want.dtype:
                return (
                    f"the input does not match what the {name} were built for: "
                    f"{name}{jax.tree_util.keystr(path)} is {_format(got)}, but init for input "
                    f"shape {input_shape} gives {_format(want)}; build them with "
                    f"init(rng, {input_shape}) or pass data of the shape they were built for"
                )
    return None


def _check_output(module: Any, data: Data, batch_size: int, output: Data) -> None:
    output_batch_size = _batch_size(output, "output")
    if output_batch_size != batch_size:
        raise ShapeError(
            f"the output {_format(output)} has batch size {output_batch_size}, but the input "
            f"{_format(data)} has {batch_size}; apply must keep the leading batch axis "
            "(reduce over the other axes)"
        )
    input_shape, expected = _output_shape(module, _shape_key(data, batched=True))
    actual = jax.tree.map(lambda leaf: tuple(leaf.shape[1:]), output)
    fits = jax.tree.structure(expected, is_leaf=is_shape) == jax.tree.structure(output) and all(
        len(want) == len(got) and all(w in (None, g) for w, g in zip(want, got, strict=True))
        for want, got in zip(map(dims, shape_leaves(expected)), shape_leaves(actual), strict=True)
    )
    if not fits:
        raise ShapeError(
            f"the output is {_format(output)}, shape {actual} per sample, but "
            f"output_shape({input_shape}) says {expected}; make apply and output_shape agree"
        )


def _check_state(state: State, new_state: State) -> None:
    if not jax.tree.leaves(state) and not jax.tree.leaves(new_state):
        return
    same = jax.tree.structure(state) == jax.tree.structure(new_state) and all(
        jnp.shape(a) == jnp.shape(b) and jnp.result_type(a) == jnp.result_type(b)
        for a, b in zip(jax.tree.leaves(state), jax.tree.leaves(new_state), strict=True)
    )
    if not same:
        raise ShapeError(
            f"the returned state {_format(new_state)} does not keep the structure, shapes and "
            f"dtypes of the state passed in, {_format(state)}; return state like the one given"
        )


def _shape_key(data: Data, batched: bool) -> tuple[Any, tuple[Any, ...], bool]:
    """A hashable key for ``data``'s tree structure and per-sample leaf shapes (the whole shapes
    when not ``batched``), the dtypes of integer and bool leaves, and the x64 mode (which
    decides the dtypes ``init`` gives)."""
    leaves, treedef = jax.tree.flatten(data)
    start = 1 if batched else 0
    shapes = tuple(
        tuple(leaf.shape[start:])
        if jnp.issubdtype(leaf.dtype, jnp.inexact)
        else jax.ShapeDtypeStruct(leaf.shape[start:], leaf.dtype)
        for leaf in leaves
    )
    return treedef, shapes, bool(jax.config.read("jax_enable_x64"))


def _input_shape(key: tuple[Any, tuple[Any, ...], bool]) -> DataShape:
    """The ``DataShape`` in ``key``: tuples for float data, structs for integer and bool data."""
    return jax.tree.unflatten(key[0], key[1])


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _init_structs(module: Any, key: Any) -> tuple[Any, Any]:
    """``(params, state)`` of ``module.init`` for the input shape in ``key``, as shape structs.

    The PRNG key is made inside ``eval_shape``: made outside, under ``jax.jit``, it would enter
    the jaxpr.
    """
    return jax.eval_shape(lambda: module.init(jax.random.key(0), _input_shape(key)))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _output_shape(module: Any, key: Any) -> tuple[DataShape, DataShape]:
    """The input shape in ``key`` and ``module.output_shape`` of it."""
    input_shape = _input_shape(key)
    return input_shape, module.output_shape(input_shape)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _annotated_apply(cls: type) -> Callable[..., tuple[Data, State]]:
    """``cls.apply`` checked against its annotations by jaxtyping and beartype."""
    return jaxtyped(typechecker=beartype)(cls.apply)


def _annotation_message(error: TypeCheckError, module: Any, *arguments: Any) -> str:
    """A short account of jaxtyping's ``error``: which argument, expected type, actual shapes."""
    text = str(error)
    apply = f"{type(module).__name__}.apply"
    bound = inspect.signature(type(module).apply).bind(module, *arguments).arguments
    argument = re.search(r"typechecking parameter '(\w+)'", text)
    expected = re.search(r"Expected type: (.*)\.\n", text)
    sizes = text.partition("axis annotation are as follows.\n")[2].split("\nThe current")[0]
    bindings = f" (with {', '.join(sizes.splitlines())})" if sizes else ""
    if "checking the return value" in text:
        what, value = "return value", type(module).apply(module, *arguments)
    elif argument:
        what, value = f"argument {argument.group(1)!r}", bound[argument.group(1)]
    else:  # jaxtyping could not blame one argument: they conflict with each other
        what, value = "arguments", {name: v for name, v in bound.items() if name != "self"}
    wanted = _clean_type(expected.group(1)) if expected else "its annotations"
    return f"the {what} of {apply} is {_format(value)}, but the annotation wants {wanted}{bindings}"


def _clean_type(text: str) -> str:
    text = re.sub(r"^<class '(.*)'>$", r"\1", text)
    return re.sub(r"\b(jaxlib\._jax|jax)\.(Array)\b", r"\2", text)


class _Spec:
    """Prints as a leaf's dtype and shape, ``float32[4,3]``, so trees print without contents."""

    def __init__(self, leaf: Any) -> None:
        if isinstance(leaf, jax.Array | jax.ShapeDtypeStruct | np.ndarray | np.generic):
            self.text = f"{leaf.dtype}[{','.join(map(str, leaf.shape))}]"
        elif isinstance(leaf, str | bool):
            self.text = repr(leaf)
        else:
            self.text = type(leaf).__name__

    def __repr__(self) -> str:
        return self.text


def _format(tree: Any) -> str:
    """``tree`` with every leaf shown as its dtype and shape; never the contents."""
    return repr(jax.tree.map(_Spec, tree))
