"""Combinators: modules made of modules, by chaining their ``ModuleCallable``s.

Each combinator's call equals calling its children by hand; the only additions are splitting
``rng`` (one key per child, ``None`` stays ``None``) and naming the child in error messages
(``Sequential[2]``, ``Parallel['b']``).

Examples
--------
>>> import jax, jax.numpy as jnp, pmm
>>> model = pmm.nn.Linear(features=8) >> pmm.nn.ReLU() >> pmm.nn.Linear(features=1)
>>> params, state = model.init(jax.random.key(0), (3,))
>>> model(params, jnp.ones((5, 3)), False, state, None)[0].shape
(5, 1)
"""

import operator
from collections.abc import Sequence
from typing import Any, cast

import jax
import jax.numpy as jnp

from pmm._calls import call_child, traced
from pmm.errors import ShapeError, located
from pmm.module import Module, Parameterless
from pmm.shapes import dims, is_shape, leaf_dtype, shape_leaves, validate_shape
from pmm.typing import AnyData, DataShape, Params, State


def split_keys(rng: Any, count: int) -> Sequence[Any]:
    """``count`` independent keys from ``rng`` (``jax.random.split``); ``None`` gives ``None``s."""
    if rng is None:
        return (None,) * count
    return tuple(jax.random.split(rng, count))


def _is_empty(tree: Any) -> bool:
    return isinstance(tree, tuple) and not tree


def _per_child(tree: Any, keys: Sequence[Any], what: str, owner: Module) -> Any:
    """``tree`` as one entry per child key; the empty tuple ``()`` stands for all-empty entries.

    Raises ``ShapeError`` when ``tree`` does not hold one entry per child.
    """
    if tree.__class__ is tuple and len(tree) == len(keys):
        return tree
    named = isinstance(keys[0], str)
    if _is_empty(tree):
        return dict.fromkeys(keys, ()) if named else ((),) * len(keys)
    if named:
        fits = isinstance(tree, dict) and sorted(tree) == sorted(keys)
    else:
        fits = isinstance(tree, tuple | list) and len(tree) == len(keys)
    if not fits:
        expected = f"keys {list(keys)}" if named else f"a tuple of {len(keys)}"
        got = (
            f"keys {list(tree)}"
            if isinstance(tree, dict)
            else (
                f"a {type(tree).__name__} of {len(tree)}"
                if isinstance(tree, tuple | list)
                else f"a {type(tree).__name__}"
            )
        )
        raise ShapeError(
            f"{what} must hold one entry per child ({expected}), got {got}; "
            f"pass the {what} that {type(owner).__name__}.init returned"
        )
    return tree


class Sequential(Module):
    """Feed the output of each layer into the next: ``Sequential(a, b, c)`` is ``a >> b >> c``.

    Params and state are tuples with one entry per layer; layer ``i`` gets key ``i`` of
    ``jax.random.split(rng, len(layers))``. Shapes: input of ``layers[0]`` to output of
    ``layers[-1]``. The layers may also be given as the field, ``Sequential(layers=(a, b))``,
    which is how ``dataclasses.replace(model, layers=...)`` builds a changed copy.

    Examples
    --------
    >>> model = pmm.Sequential(pmm.nn.Linear(features=4), pmm.nn.Tanh())
    >>> model == pmm.nn.Linear(features=4) >> pmm.nn.Tanh()
    True
    """

    layers: tuple[Module, ...]

    def __init__(self, *modules: Module, layers: Sequence[Module] | None = None) -> None:
        if modules and layers is not None:
            raise ValueError(
                "Sequential takes its layers either as arguments, Sequential(a, b), or as the "
                "field, Sequential(layers=(a, b)), not both"
            )
        object.__setattr__(self, "layers", modules if layers is None else layers)
        self.__post_init__()

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_children("layers", self.layers, type(self).__name__)

    @classmethod
    def chain(cls, *modules: Module) -> "Sequential":
        """One flat Sequential of ``modules``, splicing in the layers of Sequentials among them."""
        return cls(*(layer for m in modules for layer in (m.layers if type(m) is cls else (m,))))

    def children(self) -> tuple[tuple[Any, str, Module], ...]:
        return tuple((i, self.segment(i), layer) for i, layer in enumerate(self.layers))

    def init(self, rng: Any, input_shape: DataShape) -> tuple[Params, State]:
        params, states = [], []
        for index, (layer, key) in enumerate(
            zip(self.layers, split_keys(rng, len(self.layers)), strict=True)
        ):
            with located(self.segment(index), layer):
                layer_params, layer_state = layer.init(key, input_shape)
                input_shape = layer.output_shape(input_shape)
            params.append(layer_params)
            states.append(layer_state)
        return tuple(params), tuple(states)

    def apply(
        self, params: Params, data: AnyData, training: bool, state: State, rng: Any
    ) -> tuple[AnyData, State]:
        count = len(self.layers)
        layer_params = _per_child(params, range(count), "params", self)
        layer_states = _per_child(state, range(count), "state", self)
        keys = split_keys(rng, count)
        scoped = traced(data)
        new_states = []
        for index, layer in enumerate(self.layers):
            data, layer_state = call_child(
                self,
                index,
                layer,
                scoped,
                layer_params[index],
                data,
                training,
                layer_states[index],
                keys[index],
            )
            new_states.append(layer_state)
        return data, (() if _is_empty(state) else tuple(new_states))

    def output_shape(self, input_shape: DataShape) -> DataShape:
        for index, layer in enumerate(self.layers):
            with located(self.segment(index), layer):
                input_shape = layer.output_shape(input_shape)
        return input_shape

    def __repr__(self) -> str:
        return f"Sequential({', '.join(map(repr, self.layers))})"


class Parallel(Module):
    """Give the same input to every branch; the output is the tuple (or dict) of their outputs.

    ``Parallel(a, b)`` gives a tuple and holds params/state as tuples; ``Parallel(x=a, y=b)`` gives
    dicts keyed by branch name (names are kept sorted, as JAX orders dict keys). Any name may
    name a branch, ``branches`` and ``names`` included: a keyword whose value is a module is a
    branch. The fields themselves (``branches``, a tuple of modules, and ``names``, a tuple of
    strings or ``None``) are what ``dataclasses.replace(model, branches=...)`` passes.

    Examples
    --------
    >>> both = pmm.Parallel(lin=pmm.nn.Linear(features=2), act=pmm.nn.Tanh())
    >>> both.output_shape((3,))
    {'act': (3,), 'lin': (2,)}
    """

    branches: tuple[Module, ...]
    names: tuple[str, ...] | None = None

    def __init__(self, *branches: Module, **named: Any) -> None:
        if (
            named
            and set(named) <= {"branches", "names"}
            and not any(isinstance(value, Module) for value in named.values())
        ):
            if branches:
                raise ValueError(
                    "Parallel takes its branches either as arguments or as the fields "
                    "branches=(...) and names=(...), not both"
                )
            branches, names = named.get("branches", ()), named.get("names")
            if names is not None:
                _check_names(names, branches)
                branches, names = _sorted_branches(dict(zip(names, branches, strict=True)))
        elif branches and named:
            raise ValueError("Parallel takes branches either all positional or all by name")
        elif named:
            branches, names = _sorted_branches(named)
        else:
            names = None
        object.__setattr__(self, "branches", branches)
        object.__setattr__(self, "names", names)
        self.__post_init__()

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_children("branches", self.branches, type(self).__name__)

    @property
    def _keys(self) -> Sequence[Any]:
        return self.names or range(len(self.branches))

    def children(self) -> tuple[tuple[Any, str, Module], ...]:
        return tuple(
            (key, self.segment(key), branch)
            for key, branch in zip(self._keys, self.branches, strict=True)
        )

    def _pack(self, values: Sequence[Any]) -> Any:
        return dict(zip(self.names, values, strict=True)) if self.names else tuple(values)

    def init(self, rng: Any, input_shape: DataShape) -> tuple[Params, State]:
        results = []
        for key, branch, branch_rng in zip(
            self._keys, self.branches, split_keys(rng, len(self.branches)), strict=True
        ):
            with located(self.segment(key), branch):
                results.append(branch.init(branch_rng, input_shape))
        return self._pack([p for p, _ in results]), self._pack([s for _, s in results])

    def apply(
        self, params: Params, data: AnyData, training: bool, state: State, rng: Any
    ) -> tuple[AnyData, State]:
        keys = self._keys
        branch_params = _per_child(params, keys, "params", self)
        branch_states = _per_child(state, keys, "state", self)
        scoped = traced(data)
        outputs, new_states = [], []
        for key, branch, branch_rng in zip(
            keys, self.branches, split_keys(rng, len(keys)), strict=True
        ):
            output, new_state = call_child(
                self,
                key,
                branch,
                scoped,
                branch_params[key],
                data,
                training,
                branch_states[key],
                branch_rng,
            )
            outputs.append(output)
            new_states.append(new_state)
        return self._pack(outputs), (() if _is_empty(state) else self._pack(new_states))

    def output_shape(self, input_shape: DataShape) -> DataShape:
        shapes = []
        for key, branch in zip(self._keys, self.branches, strict=True):
            with located(self.segment(key), branch):
                shapes.append(branch.output_shape(input_shape))
        return self._pack(shapes)

    def __repr__(self) -> str:
        branches = list(map(repr, self.branches))
        if not self.names:
            return f"Parallel({', '.join(branches)})"
        if all(name.isidentifier() for name in self.names):
            pairs = (f"{n}={b}" for n, b in zip(self.names, branches, strict=True))
            return f"Parallel({', '.join(pairs)})"
        items = (f"{n!r}: {b}" for n, b in zip(self.names, branches, strict=True))
        return f"Parallel(**{{{', '.join(items)}}})"


def _check_names(names: Any, branches: Any) -> None:
    if (
        not isinstance(names, tuple | list)
        or not all(isinstance(name, str) for name in names)
        or len(set(names)) != len(names)
        or len(names) != len(branches)
    ):
        raise ValueError(
            f"field 'names' of Parallel is {names!r}; give distinct strings, one per branch, "
            "or None for positional branches"
        )


def _sorted_branches(named: dict[str, Any]) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    names = tuple(sorted(named))
    return tuple(named[name] for name in names), names


class Residual(Module):
    """``data + module(data)``, leaf by leaf for PyTree data; params and state are the module's.

    The module must keep the shape of its input.

    Examples
    --------
    >>> block = pmm.Residual(pmm.nn.Linear(features=3) >> pmm.nn.Tanh())
    >>> block.output_shape((3,))
    (3,)
    """

    module: Module

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_children("module", (self.module,), type(self).__name__)

    def children(self) -> tuple[tuple[Any, str, Module], ...]:
        return ((None, self.segment(None), self.module),)

    def init(self, rng: Any, input_shape: DataShape) -> tuple[Params, State]:
        self.output_shape(input_shape)
        with located(self.segment(None), self.module):
            return self.module.init(rng, input_shape)

    def apply(
        self, params: Params, data: AnyData, training: bool, state: State, rng: Any
    ) -> tuple[AnyData, State]:
        update, state = call_child(
            self, None, self.module, traced(data), params, data, training, state, rng
        )
        return jax.tree.map(operator.add, data, update), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        with located(self.segment(None), self.module):
            output_shape = self.module.output_shape(input_shape)
        sizes = [list(map(dims, shape_leaves(s))) for s in (input_shape, output_shape)]
        if jax.tree.structure(input_shape, is_leaf=is_shape) != jax.tree.structure(
            output_shape, is_leaf=is_shape
        ) or (sizes[0] != sizes[1]):
            raise ShapeError(
                f"Residual adds its module's output to its input, so the module must keep the "
                f"shape: input {input_shape}, module output {output_shape}. Make the module's "
                "last layer produce the input's features, or project the input first"
            )
        return jax.tree.map(_sum_leaf, input_shape, output_shape, is_leaf=is_shape)


class Select(Parameterless):
    """Pick a subtree or leaf of PyTree data by a path of dict keys and sequence indices.

    ``Select("a")`` picks ``data["a"]``; ``Select(("a", 0))`` picks ``data["a"][0]``. The batch
    axis is untouched.

    Examples
    --------
    >>> pmm.Select(("x", 1)).output_shape({"x": ((2,), (3, 4))})
    (3, 4)
    """

    path: tuple[str | int, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.path, tuple | list):
            object.__setattr__(self, "path", (self.path,))
        super().__post_init__()
        if not self.path:
            raise ValueError("field 'path' is empty; give a key or a tuple of keys")
        for key in self.path:
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise ValueError(
                    f"field 'path' holds {key!r}; keys are str (dicts) or int (sequences)"
                )

    def apply(
        self, params: Params, data: AnyData, training: bool, state: State, rng: Any
    ) -> tuple[AnyData, State]:
        return self._walk(
            data, lambda node: isinstance(node, jax.Array | jax.ShapeDtypeStruct)
        ), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        return self._walk(input_shape, is_shape)

    def _walk(self, tree: Any, is_leaf: Any) -> Any:
        node: Any = tree
        for depth, key in enumerate(self.path):
            where = "".join(f"[{k!r}]" for k in self.path[:depth]) or "the data"
            if is_leaf(node) or not isinstance(node, dict | tuple | list):
                raise ShapeError(f"cannot select [{key!r}] from {where}: it is a leaf, not a tree")
            try:
                node = cast(Any, node)[key]
            except (KeyError, IndexError, TypeError):
                options = list(node) if isinstance(node, dict) else f"indices 0..{len(node) - 1}"
                raise ShapeError(f"{where} has no entry [{key!r}]; it has {options}") from None
        return node


class Concatenate(Parameterless):
    """Concatenate the leaves of PyTree data (in JAX's flattening order) along ``axis``.

    ``axis`` counts the axes of the data arrays, batch axis included, so it may not be ``0``;
    negative values count from the end. Every leaf needs the same number of axes and equal sizes
    off ``axis``.

    Examples
    --------
    >>> pmm.Concatenate().output_shape({"a": (2,), "b": (3,)})
    (5,)
    """

    axis: int = -1

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.axis, bool) or not isinstance(self.axis, int) or self.axis == 0:
            raise ValueError(
                f"field 'axis' is {self.axis!r}; give a non-zero int (axis 0 is the batch axis)"
            )

    def apply(
        self, params: Params, data: AnyData, training: bool, state: State, rng: Any
    ) -> tuple[AnyData, State]:
        return jnp.concatenate(jax.tree.leaves(data), axis=self.axis), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        validate_shape(input_shape)
        leaves = [dims(leaf) for leaf in shape_leaves(input_shape)]
        rank = len(leaves[0])
        axis = self.axis - 1 if self.axis > 0 else self.axis + rank
        if any(len(leaf) != rank for leaf in leaves) or not 0 <= axis < rank:
            raise ShapeError(
                f"cannot concatenate leaves of shapes {leaves} along axis {self.axis}: every leaf "
                "needs the same number of axes, and the axis must exist"
            )
        rest = {leaf[:axis] + leaf[axis + 1 :] for leaf in leaves}
        if len(rest) > 1:
            raise ShapeError(
                f"cannot concatenate leaves of shapes {leaves}: sizes differ off axis {self.axis}"
            )
        sizes = [size for leaf in leaves if (size := leaf[axis]) is not None]
        total = sum(sizes) if len(sizes) == len(leaves) else None
        return (*leaves[0][:axis], total, *leaves[0][axis + 1 :])


def _sum_leaf(data: Any, update: Any) -> Any:
    """The shape leaf of ``data + update``: a tuple stays a tuple, a struct gets the sum's dtype."""
    if not isinstance(data, jax.ShapeDtypeStruct):
        return data
    return jax.ShapeDtypeStruct(data.shape, jnp.result_type(data.dtype, leaf_dtype(update)))


def _check_children(field: str, children: tuple[Any, ...], owner: str) -> None:
    if not children:
        raise ValueError(f"field {field!r} of {owner} is empty; give at least one pmm.Module")
    for index, child in enumerate(children):
        if not isinstance(child, Module):
            raise ValueError(
                f"field {field!r} of {owner}: entry {index} is a {type(child).__name__}, not a "
                "pmm.Module; wrap functions in a Module subclass"
            )
