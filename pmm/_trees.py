"""Hashable, file-safe forms of small PyTrees held as hyperparameters (wirings, shape trees).

A module field must be hashable and storable in a pmm file, which holds tuples but no dicts or
lists. ``freeze_tree`` turns a tree of dicts, lists and tuples into tuples alone:

- a leaf stays as it is (what counts as a leaf is the caller's ``is_leaf``);
- a tuple becomes the tuple of its frozen items;
- a list becomes ``(None, "list", *items)``, a dict ``(None, "dict", *((key, item), ...))``
  with its (str) keys sorted.

A leading ``None`` marks the two tagged forms, so they never read as a tuple of leaves (no leaf
is ``None``). ``freeze_tree`` also accepts its own output, so a frozen field passed back to the
constructor (``dataclasses.replace``, loading a file) freezes to itself; ``thaw_tree`` gives the
dicts and lists back.

Examples
--------
>>> frozen = freeze_tree({"b": ["x", "y"], "a": "z"}, is_str, "inputs")
>>> frozen
(None, 'dict', ('a', 'z'), ('b', (None, 'list', 'x', 'y')))
>>> thaw_tree(frozen, is_str)
{'a': 'z', 'b': ['x', 'y']}
>>> freeze_tree(frozen, is_str, "inputs") == frozen
True
"""

from collections.abc import Callable
from typing import Any

_LIST, _DICT = "list", "dict"


def freeze_tree(tree: Any, is_leaf: Callable[[Any], bool], where: str) -> Any:
    """``tree`` (dicts with str keys, lists, tuples; or its frozen form) as tuples alone.

    Raises ``ValueError`` naming ``where`` for empty containers, non-str dict keys and values
    that are neither leaves nor containers.
    """
    if is_leaf(tree):
        return tree
    tag, items = _opened(tree, where)
    if not items:
        raise ValueError(f"{where} holds an empty container {tree!r}; give at least one entry")
    if tag == _DICT:
        return (None, _DICT, *((key, freeze_tree(item, is_leaf, where)) for key, item in items))
    frozen = tuple(freeze_tree(item, is_leaf, where) for item in items)
    return (None, _LIST, *frozen) if tag == _LIST else frozen


def thaw_tree(frozen: Any, is_leaf: Callable[[Any], bool]) -> Any:
    """The tree of dicts, lists and tuples that ``frozen`` (from ``freeze_tree``) stands for."""
    if is_leaf(frozen):
        return frozen
    tag, items = _opened(frozen, "a frozen tree")
    if tag == _DICT:
        return {key: thaw_tree(item, is_leaf) for key, item in items}
    thawed = [thaw_tree(item, is_leaf) for item in items]
    return thawed if tag == _LIST else tuple(thawed)


def _opened(node: Any, where: str) -> tuple[str, list[Any]]:
    """The kind of container ``node`` is (``"tuple"``, ``"list"`` or ``"dict"``) and its items
    (``(key, value)`` pairs, sorted by key, for a dict), in plain or frozen form."""
    if isinstance(node, dict):
        return _DICT, _sorted_pairs(list(node.items()), where)
    if isinstance(node, list):
        return _LIST, node
    if isinstance(node, tuple) and node[:1] == (None,):
        if node[1:2] == (_LIST,):
            return _LIST, list(node[2:])
        if node[1:2] == (_DICT,) and all(
            isinstance(pair, tuple) and len(pair) == 2 for pair in node[2:]
        ):
            return _DICT, _sorted_pairs(list(node[2:]), where)
    elif isinstance(node, tuple):
        return "tuple", list(node)
    raise ValueError(f"{where} holds {node!r}, which is neither an entry nor a tuple, list or dict")


def _sorted_pairs(pairs: list[tuple[Any, Any]], where: str) -> list[tuple[Any, Any]]:
    for key, _ in pairs:
        if not isinstance(key, str):
            raise ValueError(f"{where} has a dict key {key!r}; give str keys")
    if len({key for key, _ in pairs}) != len(pairs):
        raise ValueError(f"{where} repeats a dict key in {pairs!r}")
    return sorted(pairs, key=lambda pair: pair[0])


def is_str(node: Any) -> bool:
    """Whether ``node`` is a str: the leaves of trees of names."""
    return isinstance(node, str)
