"""Every malformed header value is a LoadError naming the field, never a TypeError or the like.

Each case edits one value of a good file's JSON header (keeping the zip sound, as a crafted
file would) into a value of the wrong type or shape.
"""

import numpy as np
import pytest

import pmm
from tests.modules import Scale
from tests.reliability import craft


@pytest.fixture
def saved(tmp_path):
    return craft.save_sample(tmp_path / "model.pmm")


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def edit(header):
        node = header
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return edit


CASES = {
    "a list as a dtype": (
        _set("arrays", "params/0", "dtype", ["float32"]),
        r"'dtype' is \['float32'\]",
    ),
    "an unknown dtype": (_set("arrays", "params/0", "dtype", "float8"), "'dtype' is 'float8'"),
    "a string as a shape": (_set("arrays", "params/0", "shape", "3"), "'shape' is '3'"),
    "a negative size": (_set("arrays", "params/0", "shape", [-3]), r"'shape' is \[-3\]"),
    "a bool as a size": (_set("arrays", "params/0", "shape", [True]), r"'shape' is \[True\]"),
    "a number as a path": (_set("arrays", "params/0", "path", 3), "'path' is not a string"),
    "a list as an array record": (_set("arrays", "params/0", []), "'params/0' is malformed"),
    "a list as the records": (_set("arrays", []), '"arrays" is not an object'),
    "a list where a tree node should be": (
        _set("params", "tuple", 0, ["dict"]),
        r"header entry at params\[0\] is malformed",
    ),
    "a list naming an array": (
        _set("params", "tuple", 1, "dict", "w", {"array": ["params/1"]}),
        r"params\[1\]\['w'\] names no recorded array",
    ),
    "a tree node with two tags": (
        _set("state", {"tuple": [], "list": []}),
        "header entry at state is malformed",
    ),
    "a list as the module": (
        _set("module", ["pmm.Sequential"]),
        "header entry module is malformed",
    ),
    "a list as the hyperparameters": (
        _set("module", "hyperparams", []),
        "module.hyperparams is not a dict",
    ),
    "a string as a class version": (
        _set("module", "version", "1"),
        "module.version is not a int",
    ),
    "a list as a class name": (
        _set("module", "class", ["pmm.Sequential"]),
        "module.class is not a str",
    ),
    "a string as the input shape": (_set("input_shape", "(3,)"), "input_shape is malformed"),
    "a list of strings as the input shape": (
        _set("input_shape", {"shape": ["3"]}),
        "input_shape is not a shape",
    ),
    "a struct with a list as its dtype": (
        _set("input_shape", {"struct": {"shape": [3], "dtype": ["float32"]}}),
        "input_shape is not a shape",
    ),
    "a list as the format version": (_set("format_version", [3]), r"unknown format version \[3\]"),
    "a malformed special float": (
        _set("module", "hyperparams", "layers", 0, "module", "hyperparams", "factor", {"float": 1}),
        "factor is a malformed 'float' entry",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_malformed_header_value_is_a_load_error_naming_it(saved, case):
    edit, reason = CASES[case]
    craft.refused(pmm.load, craft.with_header(saved, edit), reason)


@pytest.mark.parametrize("stray", [2, 255])
def test_a_bool_array_holding_bytes_other_than_0_and_1_is_a_load_error(tmp_path, stray):
    path = tmp_path / "flags.pmm"
    pmm.save(path, Scale(), {"s": np.array([True, False, True])})
    craft.put_array(path, "params/0", np.array([1, 0, stray], np.uint8).view(np.bool_))
    craft.refused(pmm.load, path, "bool array holding bytes other than 0 and 1")


def test_a_bool_array_of_0_and_1_loads_exactly(tmp_path):
    path = tmp_path / "flags.pmm"
    flags = np.array([True, False, True])
    pmm.save(path, Scale(), {"s": flags})
    loaded = pmm.load(path)[1]["s"]
    assert loaded.dtype == np.bool_ and loaded.tolist() == flags.tolist()
