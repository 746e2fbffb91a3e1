"""The JSON side of a pmm file: the module tree, the params/state trees, and old-format upgrades.

A module is ``{"class": name, "version": v, "hyperparams": {...}}``. A hyperparameter value is
JSON ``null``/bool/int/str/number as it is, a tuple as a list, and anything else as a one-key
object: ``{"module": ...}``, ``{"float": "nan" | "inf" | "-inf"}``, ``{"complex": [re, im]}``.
A tree (params, state, input_shape) is ``null`` for None, ``{"dict": {...}}``,
``{"tuple": [...]}`` or ``{"list": [...]}`` for containers, and a one-key object for a leaf:
``{"array": member}``, or for input shapes ``{"shape": [3, null]}`` and ``{"struct": ...}``
(``input_shape.py``). ``docs/format.md`` is the full description.
"""

import math
from collections.abc import Callable
from typing import Any

from jax.tree_util import DictKey, SequenceKey, keystr

from pmm.checked import Checked
from pmm.io.problem import FileProblem
from pmm.module import Module, registered_class, registry_name
from pmm.typing import HyperParams

FORMAT_VERSION = 3
_CONTAINERS = {"dict": dict, "tuple": tuple, "list": list}
_SPECIAL_FLOATS = ("nan", "inf", "-inf")


def encode_module(module: Module) -> dict[str, Any]:
    """The JSON form of ``module`` and its children; ``TypeError`` for values JSON cannot hold.

    A ``pmm.checked`` module is written as the plain model it wraps (its params are the model's),
    so a file never holds ``Checked``: wrap the loaded model again to check it.
    """
    if isinstance(module, Checked):
        return encode_module(module.model)
    cls = type(module)
    name = registry_name(cls)
    try:
        registered = registered_class(name)
    except KeyError:
        registered = None
    if registered is not cls:
        raise TypeError(
            f"{cls.__qualname__} cannot be saved: the name {name!r} does not load it back "
            "(another class took the name); give it a unique one with register_as=..."
        )
    hyperparams = {
        key: _encode_value(value, f"{name}.{key}") for key, value in module.hyperparams.items()
    }
    return {"class": name, "version": cls.version, "hyperparams": hyperparams}


def _encode_value(value: Any, where: str) -> Any:
    if isinstance(value, Module):
        return {"module": encode_module(value)}
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(float(value))}
    if isinstance(value, complex):
        return {"complex": [_encode_value(value.real, where), _encode_value(value.imag, where)]}
    if isinstance(value, tuple | list):
        return [_encode_value(item, f"{where}[{index}]") for index, item in enumerate(value)]
    raise TypeError(
        f"hyperparameter {where} is a {type(value).__name__}; pmm files store modules, tuples, "
        "None, bool, int, float, complex and str"
    )


def decode_module(node: Any, where: str = "module") -> Module:
    """Build the module that ``node`` describes, upgrading old class versions on the way.

    Raises ``FileProblem`` for unknown classes, newer class versions and rejected hyperparams.
    """
    record = _object(node, where, {"class": str, "version": int, "hyperparams": dict})
    name, version = record["class"], record["version"]
    try:
        cls = registered_class(name)
    except KeyError:
        how = (
            "it was defined inside a function, so importing does not define it: run that "
            "function (or pmm.register the class) before loading, or define it at module level "
            "or with register_as=..."
            if "<locals>" in name
            else "import the module that defines it (or pmm.register it) before loading"
        )
        raise FileProblem(f"unknown module class {name!r} at {where}; {how}") from None
    if not 1 <= version <= cls.version:
        raise FileProblem(
            f"{where} is {name} version {version}, but this {name} is version {cls.version}; "
            "load it with the release that wrote it"
        )
    hyperparams = {
        key: _decode_value(value, f"{where}.{key}") for key, value in record["hyperparams"].items()
    }
    try:
        if version < cls.version:
            hyperparams = cls.upgrade(hyperparams, version)
        return cls.from_hyperparams(hyperparams)
    except Exception as error:
        raise FileProblem(
            f"{name} at {where} rejects its saved hyperparameters: {error}"
        ) from error


def _decode_value(node: Any, where: str) -> Any:
    if node is None or isinstance(node, bool | int | float | str):
        return node
    if isinstance(node, list):
        return tuple(_decode_value(item, f"{where}[{index}]") for index, item in enumerate(node))
    tag, value = _tagged(node, where, ("module", "float", "complex"))
    if tag == "module":
        return decode_module(value, where)
    if tag == "float" and value in _SPECIAL_FLOATS:
        return float(value)
    if tag == "complex" and isinstance(value, list) and len(value) == 2:
        real, imag = (_decode_value(part, where) for part in value)
        if isinstance(real, float | int) and isinstance(imag, float | int):
            return complex(real, imag)
    raise FileProblem(f"header value at {where} is a malformed {tag!r} entry")


def encode_tree(
    tree: Any, encode_leaf: Callable[[Any, str], Any], is_leaf: Callable[[Any], bool], root: str
) -> Any:
    """The JSON form of a tree of dicts (str keys), tuples, lists and None.

    ``encode_leaf(leaf, path)`` gives each leaf's JSON, ``path`` a string like ``params['w'][0]``
    (a ``jax.tree_util.keystr``). Raises ``TypeError`` for other containers.
    """

    def encode(node: Any, keys: tuple[Any, ...]) -> Any:
        if is_leaf(node):
            return encode_leaf(node, root + keystr(keys))
        if node is None:
            return None
        if type(node) is dict:
            for key in node:
                if not isinstance(key, str):
                    raise TypeError(
                        f"{root}{keystr(keys)} has a {type(key).__name__} key "
                        f"{key!r}; pmm files need str dict keys"
                    )
            return {
                "dict": {key: encode(value, (*keys, DictKey(key))) for key, value in node.items()}
            }
        if type(node) in (tuple, list):
            items = [encode(value, (*keys, SequenceKey(i))) for i, value in enumerate(node)]
            return {type(node).__name__: items}
        return encode_leaf(node, root + keystr(keys))

    return encode(tree, ())


def decode_tree(node: Any, decode_leaf: Callable[[str, Any, str], Any], root: str) -> Any:
    """Rebuild the tree ``encode_tree`` wrote; ``decode_leaf(tag, value, path)`` gives leaves."""

    def decode(item: Any, keys: tuple[Any, ...]) -> Any:
        if item is None:
            return None
        where = root + keystr(keys)
        tag, value = _tagged(item, where, None)
        if tag == "dict" and isinstance(value, dict):
            return {key: decode(child, (*keys, DictKey(key))) for key, child in value.items()}
        if tag in ("tuple", "list") and isinstance(value, list):
            children = (decode(child, (*keys, SequenceKey(i))) for i, child in enumerate(value))
            return _CONTAINERS[tag](children)
        return decode_leaf(tag, value, where)

    return decode(node, ())


def upgrade_header(header: dict[str, Any]) -> dict[str, Any]:
    """``header`` converted from its ``format_version`` to ``FORMAT_VERSION``.

    Version 1 (the pre-release draft) had no per-class versions and no ``input_shape``;
    version 2 had no ``{"struct": ...}`` leaves in ``input_shape``, so it reads as version 3.
    """
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise FileProblem(f"unknown format version {version!r}")
    if version > FORMAT_VERSION:
        raise FileProblem(
            f"format version {version} is newer than this pmm reads ({FORMAT_VERSION}); upgrade pmm"
        )
    if version == 1:
        header = {
            **header,
            "format_version": 2,
            "input_shape": None,
            "module": _with_class_versions(header.get("module")),
        }
    return {**header, "format_version": FORMAT_VERSION}


def _with_class_versions(node: Any) -> Any:
    """A version-1 module tree with ``"version": 1`` added to every module record."""
    if isinstance(node, list):
        return [_with_class_versions(item) for item in node]
    if not isinstance(node, dict):
        return node
    upgraded = {key: _with_class_versions(value) for key, value in node.items()}
    if "class" in node and "hyperparams" in node:
        upgraded.setdefault("version", 1)
    return upgraded


def _object(node: Any, where: str, fields: dict[str, type]) -> HyperParams:
    """``node`` checked to be a JSON object holding exactly ``fields`` of the given types."""
    if not isinstance(node, dict) or set(node) != set(fields):
        found = sorted(node) if isinstance(node, dict) else type(node).__name__
        raise FileProblem(
            f"header entry {where} is malformed: expected keys {sorted(fields)}, found {found}"
        )
    for key, kind in fields.items():
        if not isinstance(node[key], kind) or (isinstance(node[key], bool) and kind is not bool):
            raise FileProblem(f"header entry {where}.{key} is not a {kind.__name__}")
    return node


def _tagged(node: Any, where: str, tags: tuple[str, ...] | None) -> tuple[str, Any]:
    """The ``(tag, value)`` of a one-key JSON object; ``tags`` limits the allowed tags."""
    if not isinstance(node, dict) or len(node) != 1 or (tags and next(iter(node)) not in tags):
        raise FileProblem(f"header entry at {where} is malformed")
    return next(iter(node.items()))
