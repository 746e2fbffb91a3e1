"""Embedding: rows of its table for integer ids, typed input shapes, and what out-of-range ids do
with and without the shape checks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm import nn

IDS = jax.ShapeDtypeStruct((4,), jnp.int32)


def embedding_and_params(num_embeddings=5, features=3, **fields):
    module = nn.Embedding(num_embeddings=num_embeddings, features=features, **fields)
    return module, module.init(jax.random.key(0), IDS)[0]


def test_each_id_gives_its_row_of_the_table_for_any_id_shape():
    module, params = embedding_and_params()
    ids = np.random.default_rng(0).integers(0, 5, size=(2, 3, 4))
    output, state = module(params, jnp.asarray(ids), False, (), None)
    np.testing.assert_array_equal(output, np.asarray(params["embedding"])[ids])
    assert output.shape == (2, 3, 4, 3) and state == ()


def test_the_default_table_has_entries_of_variance_one_over_features():
    _, params = embedding_and_params(num_embeddings=2000, features=50)
    assert params["embedding"].shape == (2000, 50)
    assert abs(float(params["embedding"].var()) * 50 - 1) < 0.05
    zeros = embedding_and_params(kernel_init="zeros")[1]["embedding"]
    np.testing.assert_array_equal(zeros, np.zeros((5, 3)))


def test_unsigned_and_64_bit_ids_are_looked_up_too(x64):
    module, params = embedding_and_params()
    for dtype in (jnp.uint8, jnp.int64):
        output = module(params, jnp.array([[4, 0]], dtype), False, (), None)[0]
        np.testing.assert_array_equal(output[0], np.asarray(params["embedding"])[[4, 0]])


@pytest.mark.parametrize(
    ("input_shape", "message"),
    [
        ((4,), r"given float data \(input_shape \(4,\): a plain tuple stands for floats\)"),
        (jax.ShapeDtypeStruct((4,), jnp.float32), r"given float32 data"),
        (jax.ShapeDtypeStruct((4,), jnp.bool_), r"given bool data"),
        ({"ids": IDS}, r"acts on one array"),
    ],
    ids=["tuple", "float", "bool", "tree"],
)
def test_init_and_output_shape_take_integer_ids_only(input_shape, message):
    module = nn.Embedding(num_embeddings=5, features=3)
    with pytest.raises(pmm.ShapeError, match=message):
        module.init(jax.random.key(0), input_shape)
    with pytest.raises(pmm.ShapeError, match=message):
        module.output_shape(input_shape)


def test_output_shape_adds_the_feature_axis_with_the_table_dtype():
    module = nn.Embedding(num_embeddings=5, features=3)
    assert module.output_shape(jax.ShapeDtypeStruct((2, 4), jnp.int32)) == jax.ShapeDtypeStruct(
        (2, 4, 3), jnp.float32
    )


def test_without_checks_an_out_of_range_id_gives_nan_and_negative_ids_do_not_wrap():
    module, params = embedding_and_params()
    output, _ = module(params, jnp.array([[0, 5, -1, 4, 99, -5]]), False, (), None)
    table = np.asarray(params["embedding"])
    np.testing.assert_array_equal(output[0, [0, 3]], table[[0, 4]])
    assert np.isnan(output[0, [1, 2, 4, 5]]).all()


def test_the_table_gradient_ignores_out_of_range_ids():
    module, params = embedding_and_params()
    ids = jnp.array([[1, 1, 7, -2]])

    def finite_sum(p):
        vectors = module(p, ids, False, (), None)[0]
        return jnp.where(jnp.isnan(vectors), 0, vectors).sum()

    gradient = jax.grad(finite_sum)(params)["embedding"]
    np.testing.assert_array_equal(gradient, np.array([[0] * 3, [2] * 3, [0] * 3, [0] * 3, [0] * 3]))


def test_under_checks_out_of_range_concrete_ids_are_a_shape_error_with_the_range():
    module, params = embedding_and_params()
    expected = r"^Embedding\(num_embeddings=5, features=3\): ids must lie in \[0, 4\].*from -1 to 5"
    with pytest.raises(pmm.ShapeError, match=expected):
        pmm.checked(module)(params, jnp.array([[0, 5], [-1, 2]]), False, (), None)


def test_under_checks_out_of_range_traced_ids_fail_when_the_compiled_code_runs():
    module, params = embedding_and_params()
    call = jax.jit(pmm.checked(module), static_argnums=2)
    assert call(params, jnp.array([[0, 4]]), False, (), None)[0].shape == (1, 2, 3)
    with pytest.raises(
        jax.errors.JaxRuntimeError, match=r"Embedding\(num_embeddings=5.*ids must lie in \[0, 4\]"
    ):
        jax.block_until_ready(call(params, jnp.array([[0, 9]]), False, (), None))


def test_without_checks_the_jitted_lookup_holds_no_range_check():
    module, params = embedding_and_params()
    ids = jnp.array([[0, 4]])
    plain = jax.make_jaxpr(lambda p, i: module(p, i, False, (), None))(params, ids)
    checked = jax.make_jaxpr(lambda p, i: pmm.checked(module)(p, i, False, (), None))(params, ids)
    assert "callback" not in str(plain) and "callback" in str(checked)


def test_under_checks_concrete_ids_closed_over_by_jit_are_checked_while_tracing():
    module, params = embedding_and_params()

    def lookup(ids):
        return jax.jit(lambda p: pmm.checked(module)(p, ids, False, (), None)[0])(params)

    assert lookup(jnp.array([[0, 4]])).shape == (1, 2, 3)
    with pytest.raises(pmm.ShapeError, match=r"ids must lie in \[0, 4\]"):
        lookup(jnp.array([[0, 5]]))


def test_under_checks_float_ids_are_refused_saying_to_pass_integers():
    module, params = embedding_and_params()
    expected = r"the data float32\[1,2\].*looks up integer ids.*pass integer ids"
    with pytest.raises(pmm.ShapeError, match=expected):
        pmm.checked(module)(params, jnp.array([[0.0, 1.0]]), False, (), None)


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"num_embeddings": 0, "features": 2}, "num_embeddings"),
        ({"num_embeddings": 2, "features": 0}, "features"),
        ({"num_embeddings": 2, "features": 2, "kernel_init": "normal"}, "kernel_init"),
        ({"num_embeddings": 2, "features": 2, "dtype": "int32"}, "dtype"),
    ],
)
def test_bad_hyperparameters_fail_at_construction_naming_the_field(fields, name):
    with pytest.raises(ValueError, match=f"field '{name}'"):
        nn.Embedding(**fields)


def test_a_complex_table_is_looked_up_like_a_real_one():
    module, params = embedding_and_params(dtype="complex64")
    output = module(params, jnp.array([[2, 9]]), False, (), None)[0]
    assert output.dtype == jnp.complex64
    np.testing.assert_array_equal(output[0, 0], params["embedding"][2])
    assert np.isnan(output[0, 1].real).all()
