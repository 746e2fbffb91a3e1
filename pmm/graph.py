"""``pmm.Graph``: modules wired by name into a directed acyclic graph.

Each node is a module and the *sources* it reads: the model's data (``"input"``), another node's
output, or a path into either. Where ``Sequential``, ``Parallel`` and ``Select`` nest, a graph
names: skip connections, shared encoders and several heads read as they are drawn. The guide is
``docs/graphs.md``.

Examples
--------
>>> import jax, jax.numpy as jnp, pmm
>>> model = pmm.Graph(
...     nodes={
...         "enc": (pmm.nn.Linear(features=8), "input"),
...         "a": (pmm.nn.Tanh(), "enc"),
...         "b": (pmm.nn.ReLU(), "enc"),
...         "cat": (pmm.Concatenate(), ("a", "b")),
...         "out": (pmm.nn.Linear(features=1), "cat"),
...     },
...     output="out",
... )
>>> params, state = model.init(jax.random.key(0), (3,))
>>> sorted(params), model(params, jnp.ones((5, 3)), False, state, None)[0].shape
(['a', 'b', 'cat', 'enc', 'out'], (5, 1))
"""

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax

from pmm._calls import call_child, traced
from pmm._trees import freeze_tree, is_str, thaw_tree
from pmm.combinators import _is_empty, _per_child, split_keys
from pmm.errors import ShapeError, located
from pmm.module import Module
from pmm.shapes import is_shape, validate_shape
from pmm.typing import AnyData, DataShape, Params, State

#: The source that names the model's data.
INPUT = "input"
#: Separates a source's node from the path into its output: ``"enc/0"``, ``"heads/mean"``.
SEPARATOR = "/"


class Graph(Module):
    """Modules wired by name: each node reads sources and is computed once, in dependency order.

    ``nodes`` maps each node's name to ``(module, inputs)``; ``output`` names what the model
    returns. ``inputs`` and ``output`` are a *source* or any tuple, list or dict of sources, and
    the node gets (the model returns) that tree with each source replaced by its value. A source
    is a string:

    - ``"input"``: the model's data;
    - ``"enc"``: the output of node ``enc``;
    - ``"enc/0/mean"``: a path into a PyTree output, one ``/``-separated key per level, taken
      as a dict key where that level is a dict and as an index where it is a tuple or list.

    A tuple is always a tree of sources, never a path: ``("a", "b")`` gives the node the pair of
    outputs ``a`` and ``b``, and ``"a/1"`` picks entry 1 of ``a``'s output. Node names are
    non-empty strings without ``/``, other than ``"input"``.

    Params and state are dicts keyed by node name (``()`` for a node without any). Nodes run in a
    topological order found once per spec (``run_order``); a node read by several others is
    computed once. Node ``i`` of ``nodes`` (sorted by name) gets key ``i`` of
    ``jax.random.split(rng, len(nodes))``. Construction refuses, naming the node, unknown
    sources, cycles, the reserved name and nodes whose output nothing reads (neither a node nor
    ``output``: delete them, or add them to ``output``). Errors inside a node name it:
    ``Graph['cat'] > Concatenate()``.

    The field ``nodes`` holds ``(name, module, inputs)`` triples sorted by name, with dict and
    list inputs in the tagged form of ``pmm._trees.freeze_tree``, so that equal graphs compare,
    hash and save alike whatever the order they were written in; ``wiring`` gives the dict back.

    Examples
    --------
    >>> graph = pmm.Graph(
    ...     nodes={
    ...         "pair": (pmm.Parallel(pmm.nn.Tanh(), pmm.nn.Linear(features=2)), "input"),
    ...         "head": (pmm.nn.Linear(features=1), "pair/1"),
    ...     },
    ...     output={"features": "pair/0", "prediction": "head"},
    ... )
    >>> graph.output_shape((3,))
    {'features': (3,), 'prediction': (1,)}
    >>> graph.run_order
    ('pair', 'head')
    """

    nodes: Any
    output: Any

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", _frozen_nodes(self.nodes))
        object.__setattr__(self, "output", freeze_tree(self.output, is_str, "field 'output'"))
        _check_sources(self.output, "field 'output' of Graph")
        super().__post_init__()
        _plan(self)  # refuses unknown sources, cycles and unused nodes now

    @property
    def wiring(self) -> dict[str, tuple[Module, Any]]:
        """The nodes as ``{name: (module, inputs)}``, in run order, inputs as written."""
        return {
            name: (module, thaw_tree(inputs, is_str))
            for name, module, inputs in (self.nodes[index] for index in _plan(self).order)
        }

    @property
    def run_order(self) -> tuple[str, ...]:
        """The node names in the order they run, every node after the nodes it reads."""
        return tuple(self.nodes[index][0] for index in _plan(self).order)

    def children(self) -> tuple[tuple[Any, str, Module], ...]:
        return tuple((name, self.segment(name), module) for name, module, _ in self.nodes)

    def init(self, rng: Any, input_shape: DataShape) -> tuple[Params, State]:
        keys = split_keys(rng, len(self.nodes))
        params, states = {}, {}

        def build(index: int, module: Module, node_shape: DataShape) -> None:
            name = self.nodes[index][0]
            params[name], states[name] = module.init(keys[index], node_shape)

        self._propagate(input_shape, build)
        return params, states

    def output_shape(self, input_shape: DataShape) -> DataShape:
        return self._propagate(input_shape, lambda *_: None)

    def _propagate(
        self, input_shape: DataShape, visit: Callable[[int, Module, DataShape], None]
    ) -> DataShape:
        """The output shape, found node by node in run order; ``visit(index, module, shape)``
        is called with each node's input shape before its output shape is asked."""
        validate_shape(input_shape)
        plan = _plan(self)
        shapes = {INPUT: input_shape}
        for index in plan.order:
            name, module, _ = self.nodes[index]
            with located(self.segment(name), module):
                node_shape = _gathered(plan.inputs[index], shapes, name)
                visit(index, module, node_shape)
                shapes[name] = module.output_shape(node_shape)
        return _gathered(plan.output, shapes, "output")

    def apply(
        self, params: Params, data: AnyData, training: bool, state: State, rng: Any
    ) -> tuple[AnyData, State]:
        plan = _plan(self)
        names = [name for name, _, _ in self.nodes]
        node_params = _per_child(params, names, "params", self)
        node_states = _per_child(state, names, "state", self)
        keys = split_keys(rng, len(names))
        scoped = traced(data)
        values, new_states = {INPUT: data}, {}
        for index in plan.order:
            name, module, _ = self.nodes[index]
            values[name], new_states[name] = call_child(
                self,
                name,
                module,
                scoped,
                node_params[name],
                _gathered(plan.inputs[index], values, name),
                training,
                node_states[name],
                keys[index],
            )
        return _gathered(plan.output, values, "output"), (() if _is_empty(state) else new_states)

    def __repr__(self) -> str:
        nodes = ", ".join(
            f"{name!r}: ({module!r}, {inputs!r})" for name, (module, inputs) in self.wiring.items()
        )
        return f"Graph(nodes={{{nodes}}}, output={thaw_tree(self.output, is_str)!r})"


@dataclasses.dataclass(frozen=True)
class _Source:
    """A parsed source: the node (or ``"input"``) it reads and the path of keys into its value."""

    text: str
    node: str
    keys: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class _Plan:
    """What a graph's spec implies, found once: the run order (indices into ``nodes``), and each
    node's inputs and the output as trees of ``_Source``."""

    order: tuple[int, ...]
    inputs: tuple[Any, ...]
    output: Any


def _frozen_nodes(nodes: Any) -> tuple[tuple[str, Module, Any], ...]:
    """``nodes`` (a dict of ``(module, inputs)``, or the field's own triples) as sorted triples."""
    if isinstance(nodes, dict):
        entries = list(nodes.items())
    elif isinstance(nodes, tuple | list) and all(
        isinstance(entry, tuple | list) and len(entry) == 3 for entry in nodes
    ):
        entries = [(entry[0], tuple(entry[1:])) for entry in nodes]
    else:
        raise ValueError(
            f"field 'nodes' of Graph is {nodes!r}; give a dict of name: (module, inputs), e.g. "
            "{'hidden': (pmm.nn.Linear(features=8), 'input')}"
        )
    if not entries:
        raise ValueError("field 'nodes' of Graph is empty; give at least one node")
    triples = []
    for name, entry in entries:
        _check_name(name)
        if (
            not isinstance(entry, tuple | list)
            or len(entry) != 2
            or not isinstance(entry[0], Module)
        ):
            raise ValueError(
                f"Graph node {name!r} is {entry!r}; give the pair (module, inputs), e.g. "
                f"(pmm.nn.Tanh(), 'input')"
            )
        inputs = freeze_tree(entry[1], is_str, f"the inputs of Graph node {name!r}")
        _check_sources(inputs, f"Graph node {name!r}")
        triples.append((name, entry[0], inputs))
    if len({name for name, _, _ in triples}) != len(triples):
        raise ValueError(f"field 'nodes' of Graph names a node twice: {[t[0] for t in triples]}")
    return tuple(sorted(triples, key=lambda triple: triple[0]))


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name or SEPARATOR in name or name == INPUT:
        raise ValueError(
            f"Graph node name {name!r} is not allowed: give a non-empty str without "
            f"{SEPARATOR!r} (it separates a node from a path into its output), other than "
            f"{INPUT!r} (the model's data)"
        )


def _check_sources(frozen: Any, reader: str) -> None:
    """``ValueError`` unless every leaf of ``frozen`` is a well-formed source string."""
    for text in jax.tree.leaves(thaw_tree(frozen, is_str)):
        if not all(text.split(SEPARATOR)):
            raise ValueError(
                f"{reader} reads {text!r}, which is not a source: give a node name, {INPUT!r}, or "
                f"a path into one such as 'enc{SEPARATOR}0' (no empty parts)"
            )


def _parsed(frozen: Any) -> Any:
    """The tree ``frozen`` stands for, with each source string parsed into a ``_Source``."""

    def parse(text: str) -> _Source:
        node, *keys = text.split(SEPARATOR)
        return _Source(text, node, tuple(keys))

    return jax.tree.map(parse, thaw_tree(frozen, is_str))


def _sources(tree: Any) -> list[_Source]:
    return jax.tree.leaves(tree, is_leaf=_is_source)


def _is_source(node: Any) -> bool:
    return isinstance(node, _Source)


@functools.lru_cache(maxsize=1024)
def _plan(graph: Graph) -> _Plan:
    """The run order and parsed wiring of ``graph``; ``ValueError`` naming the node for unknown
    sources, cycles and unused nodes."""
    names = [name for name, _, _ in graph.nodes]
    index_of = {name: index for index, name in enumerate(names)}
    inputs = tuple(_parsed(inputs) for _, _, inputs in graph.nodes)
    output = _parsed(graph.output)
    reads: list[set[int]] = []
    for name, tree in zip(names, inputs, strict=True):
        read = set()
        for source in _sources(tree):
            read.add(_source_index(source, index_of, f"Graph node {name!r}"))
        reads.append(read - {-1})
    order = _topological(names, reads)
    used = {_source_index(s, index_of, "field 'output' of Graph") for s in _sources(output)}
    stack = list(used - {-1})
    while stack:
        for index in reads[stack.pop()] - used:
            used.add(index)
            stack.append(index)
    unused = [name for index, name in enumerate(names) if index not in used]
    if unused:
        raise ValueError(
            f"Graph nodes {unused} are not used: no node reads them and output does not name "
            "them; remove them, or add them to output"
        )
    return _Plan(order, inputs, output)


def _source_index(source: _Source, index_of: dict[str, int], reader: str) -> int:
    """The index of the node ``source`` reads (``-1`` for the model's data)."""
    if source.node == INPUT:
        return -1
    if source.node not in index_of:
        raise ValueError(
            f"{reader} reads {source.text!r}, but there is no node {source.node!r}; the sources "
            f"are {INPUT!r} and the nodes {sorted(index_of)}"
        )
    return index_of[source.node]


def _topological(names: list[str], reads: list[set[int]]) -> tuple[int, ...]:
    """Node indices such that each comes after those it reads, earliest-named first among the
    ready ones; ``ValueError`` naming a cycle if there is one."""
    order: list[int] = []
    done: set[int] = set()
    while len(order) < len(names):
        ready = [i for i in range(len(names)) if i not in done and reads[i] <= done]
        if not ready:
            raise ValueError(
                f"Graph nodes form a cycle (each reads the next): {_cycle(names, reads, done)}"
            )
        order.append(ready[0])
        done.add(ready[0])
    return tuple(order)


def _cycle(names: list[str], reads: list[set[int]], done: set[int]) -> str:
    """One cycle among the nodes not ``done``, as ``'a' -> 'b' -> 'a'`` (each reads the next)."""
    path = [min(set(range(len(names))) - done)]
    while path.count(path[-1]) < 2:
        path.append(min(reads[path[-1]] - done))
    start = path.index(path[-1])
    return " -> ".join(repr(names[index]) for index in path[start:])


def _gathered(tree: Any, values: dict[str, Any], reader: str) -> Any:
    """``tree`` of ``_Source`` with each source replaced by its value (data or shapes)."""
    if tree.__class__ is _Source:  # the common case, without a tree walk
        return _followed(tree, values[tree.node], reader)
    return jax.tree.map(
        lambda source: _followed(source, values[source.node], reader), tree, is_leaf=_is_source
    )


def _followed(source: _Source, value: Any, reader: str) -> Any:
    """The part of ``value`` (a node's data or shape tree) at ``source``'s path."""
    for depth, key in enumerate(source.keys):
        where = SEPARATOR.join((source.node, *source.keys[:depth]))
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif (
            isinstance(value, tuple | list)
            and not is_shape(value)
            and key.isdecimal()
            and int(key) < len(value)
        ):
            value = value[int(key)]
        else:
            raise ShapeError(f"{_reading(reader)} reads {source.text!r}, but {_has(where, value)}")
    return value


def _reading(reader: str) -> str:
    return "the output" if reader == "output" else f"node {reader!r}"


def _has(where: str, value: Any) -> str:
    if isinstance(value, dict):
        return f"{where!r} is a dict with keys {sorted(value)}"
    if isinstance(value, tuple | list) and not is_shape(value):
        return f"{where!r} is a sequence of {len(value)}: give an index 0..{len(value) - 1}"
    return f"{where!r} is one array, not a tree"
