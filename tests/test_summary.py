"""pmm.summary and pmm.count_params (issue 13 section 2)."""

import jax
import jax.numpy as jnp
import pytest

import pmm
from pmm import nn

MLP = nn.Linear(features=8) >> nn.ReLU() >> nn.Linear(features=2)


def test_count_params_counts_real_numbers_and_complex_leaves_twice():
    params = {"w": jnp.zeros((3, 4)), "z": (jnp.zeros(5, jnp.complex64),), "empty": ()}
    assert pmm.count_params(params) == 12 + 2 * 5
    assert pmm.count_params(jax.eval_shape(lambda: params)) == 22
    assert pmm.count_params(()) == 0


def test_the_totals_are_count_params_of_the_params(key):
    model = nn.MLP(hidden=(4,), features=2) >> pmm.AEPMM(matrix_size=3, num_eig=2)
    params, _ = model.init(key, (3,))
    table = pmm.summary(model, (3,), flops=False)
    assert table.params == pmm.count_params(params)
    assert table.bytes == sum(leaf.nbytes for leaf in jax.tree.leaves(params))
    assert sum(row.own_params for row in table.rows) == table.params
    assert sum(row.own_bytes for row in table.rows) == table.bytes


def test_each_row_counts_the_params_of_its_module(key):
    params, _ = MLP.init(key, (3,))
    rows = pmm.summary(MLP, (3,), flops=False).rows
    assert [row.params for row in rows] == [pmm.count_params(params)] + [
        pmm.count_params(layer) for layer in params
    ]
    assert [row.own_params for row in rows] == [0, 32, 0, 18]


def test_rows_name_modules_by_their_paths_as_errors_and_parameter_paths_print_them(key):
    model = nn.Linear(features=4) >> pmm.Parallel(a=nn.Tanh(), b=nn.MLP(hidden=(2,)))
    params, _ = model.init(key, (3,))
    rows = pmm.summary(model, (3,), flops=False).rows
    paths = jax.tree.leaves(
        pmm.parameter_paths(model, params), is_leaf=lambda node: isinstance(node, pmm.ParamPath)
    )
    owners = {" > ".join(path.segments) for path in paths}
    leaf_rows = {row.path for row in rows if row.params and row.own_params == row.params}
    assert leaf_rows == owners
    assert [(row.depth, row.name) for row in rows[:4]] == [
        (0, repr(model)),
        (1, "Sequential[0] > Linear(features=4)"),
        (1, "Sequential[1] > Parallel(a=Tanh(), b=MLP(hidden=(2,)))"),
        (2, "Parallel['a'] > Tanh()"),
    ]


def test_rows_give_input_and_output_shapes_with_dtypes():
    rows = pmm.summary(nn.Linear(features=4) >> pmm.AEPMM(matrix_size=3), (3,), flops=False).rows
    matrix = next(row for row in rows if isinstance(row.module, pmm.AffineHermitianMatrix))
    assert matrix.input_shape == jax.ShapeDtypeStruct((4,), jnp.float32)
    assert matrix.output_shape == jax.ShapeDtypeStruct((3, 3), jnp.complex64)


def test_typed_input_shapes_summarise_integer_data():
    model = pmm.Graph(nodes={"lin": (nn.Linear(features=2), "input/x")}, output=("lin", "input/n"))
    shape = {
        "n": jax.ShapeDtypeStruct((4,), jnp.int32),
        "x": jax.ShapeDtypeStruct((3,), jnp.float32),
    }
    table = pmm.summary(model, shape, flops=False)
    assert table.rows[0].output_shape[1] == jax.ShapeDtypeStruct((4,), jnp.int32)
    assert table.rows[1].name == "Graph['lin'] > Linear(features=2)"
    assert "(float32[2], int32[4])" in str(table)


def test_flops_of_an_mlp_match_a_hand_count():
    batch = 4
    table = pmm.summary(MLP, (3,), batch_size=batch)
    first = batch * (2 * 3 * 8 + 8)  # multiply-adds of the weight, then the bias
    relu = batch * 8  # one max per entry
    second = batch * (2 * 8 * 2 + 2)
    assert [row.flops for row in table.rows] == [first + relu + second, first, relu, second]
    assert table.flops == first + relu + second


def test_nothing_is_computed_on_data_even_for_a_model_too_large_for_memory():
    huge = nn.Linear(features=100_000) >> nn.Linear(features=100_000)
    table = pmm.summary(huge, (100_000,), flops=False)
    assert table.params == 2 * (100_000**2 + 100_000)
    assert table.bytes == 4 * table.params


def test_the_table_prints_every_row_and_the_totals():
    table = pmm.summary(MLP, (3,), batch_size=2)
    text = str(table)
    for row in table.rows:
        assert "  " * row.depth + row.name in text
    header = ["Module", "Output", "Own", "params", "Params", "Bytes", "FLOPs"]
    assert text.splitlines()[0].split() == header
    assert text.endswith(
        f"Total: 50 params (200 B); {table.flops:,.0f} FLOPs per batch of 2 "
        "(XLA cost analysis, forward pass)"
    )
    assert repr(table) == text


def test_flops_may_be_skipped():
    table = pmm.summary(MLP, (3,), flops=False)
    assert {row.flops for row in table.rows} == {None}
    assert str(table).endswith("FLOPs not counted")


def test_shape_checks_do_not_change_the_rows():
    plain = pmm.summary(pmm.checked(MLP), (3,), flops=False)
    with pmm.shape_checks():
        checked = pmm.summary(MLP, (3,), flops=False)
    assert [row.path for row in checked.rows][1:] == [row.path for row in plain.rows][1:]


@pytest.mark.parametrize(
    ("shape", "batch_size", "message"),
    [((None,), 1, "every size of input_shape known"), ((3,), 0, "'batch_size' of summary")],
)
def test_unknown_sizes_and_bad_batch_sizes_are_refused(shape, batch_size, message):
    with pytest.raises(ValueError, match=message):
        pmm.summary(MLP, shape, batch_size=batch_size)
