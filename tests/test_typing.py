"""The typing spec (DESIGN.md section 1): aliases as annotations and with is_bearable."""

import ast
import inspect

import jax.numpy as jnp
import pytest
from beartype import beartype
from beartype.door import is_bearable
from jaxtyping import TypeCheckError, jaxtyped

import pmm.typing as t
from pmm.shapes import is_shape, map_shapes, validate_shape
from tests.modules import Scale

ALIASES = [
    "Params", "TupleParams", "ListParams", "DictParams", "HyperParams", "ArrayData", "Data",
    "DataFixed", "RealDataFixed", "ComplexDataFixed", "BatchlessDataFixed",
    "BatchlessRealDataFixed", "BatchlessComplexDataFixed", "ArrayDataShape", "DataShape",
    "State", "TupleState", "ListState", "DictState", "ModuleCallable",
]  # fmt: skip


def test_every_alias_has_a_doc_comment():
    lines = inspect.getsource(t).splitlines()
    documented = set()
    for node in ast.parse("\n".join(lines)).body:
        if isinstance(node, ast.AnnAssign) and lines[node.lineno - 2].startswith("#:"):
            documented.add(node.target.id)
    assert set(ALIASES) <= documented


def test_params_are_trees_of_inexact_arrays():
    assert is_bearable({"w": jnp.ones((2, 3)), "b": jnp.ones(3, jnp.complex64)}, t.Params)
    assert is_bearable((jnp.ones(2),), t.TupleParams)
    assert is_bearable([jnp.ones(2)], t.ListParams)
    assert is_bearable({"w": jnp.ones(2)}, t.DictParams)
    assert not is_bearable({"w": jnp.ones(2, jnp.int32)}, t.Params)


def test_array_data_needs_a_batch_axis_and_an_inexact_dtype():
    assert is_bearable(jnp.ones((4, 3)), t.ArrayData)
    assert is_bearable(jnp.ones(4, jnp.complex64), t.ArrayData)
    assert not is_bearable(jnp.ones(()), t.ArrayData)
    assert not is_bearable(jnp.ones((4, 3), jnp.int32), t.ArrayData)


def test_data_leaves_share_one_batch_size_within_a_checked_call():
    @jaxtyped(typechecker=beartype)
    def passthrough(data: t.Data) -> t.Data:
        return data

    passthrough({"a": jnp.ones((4, 3)), "b": jnp.ones((4,))})
    with pytest.raises(TypeCheckError):
        passthrough({"a": jnp.ones((4, 3)), "b": jnp.ones((5,))})


def test_data_fixed_binds_structure_and_per_leaf_shapes():
    @jaxtyped(typechecker=beartype)
    def same(first: t.DataFixed, second: t.DataFixed) -> None:
        pass

    data = {"a": jnp.ones((4, 3)), "b": jnp.ones((4, 2))}
    same(data, data)
    with pytest.raises(TypeCheckError):
        same(data, {"a": jnp.ones((4, 3))})
    with pytest.raises(TypeCheckError):
        same(data, {"a": jnp.ones((4, 3)), "b": jnp.ones((4, 5))})


def test_real_and_complex_data_fixed_check_the_dtype_kind():
    real, complex_ = jnp.ones((2, 3)), jnp.ones((2, 3), jnp.complex64)
    assert is_bearable(real, t.RealDataFixed) and not is_bearable(complex_, t.RealDataFixed)
    assert is_bearable(complex_, t.ComplexDataFixed) and not is_bearable(real, t.ComplexDataFixed)
    assert is_bearable(real, t.DataFixed) and is_bearable(complex_, t.DataFixed)


def test_batchless_variants_accept_single_samples():
    assert is_bearable(jnp.ones(()), t.BatchlessDataFixed)
    assert is_bearable(jnp.ones(3), t.BatchlessRealDataFixed)
    assert is_bearable(jnp.ones(3, jnp.complex64), t.BatchlessComplexDataFixed)
    assert not is_bearable(jnp.ones(3, jnp.complex64), t.BatchlessRealDataFixed)


def test_state_allows_integer_leaves():
    assert is_bearable({"count": jnp.zeros((), jnp.int32), "mean": jnp.zeros(3)}, t.State)
    assert is_bearable((jnp.zeros(2, jnp.int32),), t.TupleState)
    assert is_bearable([jnp.zeros(2)], t.ListState)
    assert is_bearable({"n": jnp.zeros(2, jnp.int32)}, t.DictState)


def test_shapes_are_tuples_of_sizes():
    assert is_bearable((3, None), t.ArrayDataShape)
    assert is_bearable({"a": (3,), "b": ((), (2, 2))}, t.DataShape)
    assert is_bearable({"lr": 1e-3, "name": "x"}, t.HyperParams)


def test_a_module_is_a_module_callable():
    assert is_bearable(Scale(), t.ModuleCallable)


@pytest.mark.parametrize(
    ("node", "expected"),
    [((), True), ((3,), True), ((3, None), True), ((True,), False), ([3], False),
     (((3,), (4,)), False), (((), ()), False), ({"a": (3,)}, False)],
)  # fmt: skip
def test_the_shape_leaf_rule(node, expected):
    assert is_shape(node) is expected


def test_map_shapes_treats_tuples_of_shapes_as_containers():
    assert map_shapes(len, ((3,), (4, 5), ())) == (1, 2, 0)
    assert map_shapes(len, ()) == 0


@pytest.mark.parametrize("bad", [{}, [(3,), "x"], ((3, -1),), (3.0,)])
def test_invalid_data_shapes_are_refused(bad):
    with pytest.raises(ValueError, match="input_shape"):
        validate_shape(bad)
