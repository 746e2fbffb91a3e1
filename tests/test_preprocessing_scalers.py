"""pmm.preprocessing's affine scalers against numpy: statistics, constant columns, passthrough,
the inverse, and the errors a user can trigger."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm.preprocessing import Inverse, MinMaxScaler, RobustScaler, StandardScaler

SCALERS = [StandardScaler(), MinMaxScaler(feature_range=(-1.0, 2.0)), RobustScaler()]


def data(shape=(50, 3), seed=0):
    generator = np.random.default_rng(seed)
    return generator.normal(size=shape) * np.array([1.0, 10.0, 0.1]) + np.array([5.0, -3.0, 0])


def scaled(scaler, x, state):
    return np.asarray(scaler((), jnp.asarray(x), False, state)[0])


def test_standard_scaler_statistics_are_the_mean_and_population_std_over_all_but_the_last_axis(
    x64,
):
    x = data((40, 2, 3))
    _, state = StandardScaler().fit(x, chunk_size=7)
    rows = x.reshape(-1, 3)
    np.testing.assert_allclose(state["center"], rows.sum(0) / len(rows), rtol=1e-13)
    deviations = rows - rows.sum(0) / len(rows)
    std = np.sqrt((deviations**2).sum(0) / len(rows))
    np.testing.assert_allclose(state["scale"], std, rtol=1e-12)


def test_standard_scaler_merges_chunks_as_accurately_as_one_pass_over_shifted_data(x64):
    x = 1e8 + data((1000, 3))  # a large offset: naive sums of squares lose every digit here
    two_pass = np.sqrt(((x - x.mean(0)) ** 2).mean(0))
    for chunk_size in (1000, 3):
        statistics = StandardScaler().fit(x, chunk_size=chunk_size)[1]
        # x itself is only known to 1e8 * 2**-52 = 2e-8, about 2e-7 of the smallest std
        np.testing.assert_allclose(statistics["scale"], two_pass, rtol=1e-6)


def test_minmax_scaler_maps_the_minimum_and_maximum_to_the_range_ends():
    x = data()
    scaler = MinMaxScaler(feature_range=(-1.0, 2.0))
    _, state = scaler.fit(x)
    output = scaled(scaler, x, state)
    expected = -1.0 + (x - x.min(0)) * 3.0 / (x.max(0) - x.min(0))
    np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(output.min(0), -1.0, atol=1e-6)
    np.testing.assert_allclose(output.max(0), 2.0, atol=1e-6)


def test_robust_scaler_uses_the_median_and_the_linearly_interpolated_quartiles():
    x = np.array([[1.0, 0.0], [2.0, 10.0], [3.0, 20.0], [4.0, 30.0], [100.0, 40.0], [6.0, 50.0]])
    _, state = RobustScaler().fit(x)
    # Sorted first column: 1 2 3 4 6 100; quartile positions 1.25 and 3.75 of 0..5.
    q25, median, q75 = 2 + 0.25 * 1, 3.5, 4 + 0.75 * 2
    np.testing.assert_allclose(state["center"], [median, 25.0])
    np.testing.assert_allclose(state["scale"], [q75 - q25, 25.0])


def test_robust_scaler_takes_other_quantile_ranges():
    x = np.arange(101.0)[:, None]
    _, state = RobustScaler(quantile_range=(10, 90)).fit(x)
    np.testing.assert_allclose(state["scale"], [80.0])


@pytest.mark.parametrize(
    ("scaler", "constant_maps_to"),
    [
        (StandardScaler(), 0.0),
        (MinMaxScaler(feature_range=(-1.0, 2.0)), -1.0),
        (RobustScaler(), 0.0),
    ],
    ids=repr,
)
def test_a_constant_column_gets_scale_one_and_maps_to_the_documented_value(
    scaler, constant_maps_to
):
    x = data()
    x[:, 1] = 7.25
    _, state = scaler.fit(x)
    assert float(state["scale"][1]) == 1.0
    output = scaled(scaler, x, state)
    assert np.isfinite(output).all()
    np.testing.assert_allclose(output[:, 1], constant_maps_to)


def test_a_constant_float64_column_whose_mean_rounds_is_still_constant(x64):
    x = np.full((100_003, 1), 0.1)  # 0.1 summed in chunks does not give back exactly 0.1
    _, state = StandardScaler().fit(x, chunk_size=1000)
    assert float(state["scale"][0]) == 1.0


@pytest.mark.parametrize("scaler", SCALERS, ids=repr)
def test_the_inverse_undoes_the_scaler_on_pytree_data(scaler):
    x = {"a": data((20, 3)), "b": data((20, 2, 3), seed=1)}
    params, state = scaler.fit(x)
    forward, _ = scaler(params, jax.tree.map(jnp.asarray, x), False, state)
    back, _ = scaler.inverse()(params, forward, False, state)
    for name in x:
        np.testing.assert_allclose(back[name], x[name], rtol=1e-5, atol=1e-5)


def test_inverse_is_the_scalers_inverse_and_back():
    scaler = RobustScaler(passthrough=(1,))
    assert scaler.inverse() == Inverse(scaler)
    assert scaler.inverse().inverse() == scaler


@pytest.mark.parametrize("scaler", SCALERS, ids=repr)
def test_init_gives_the_identity_with_the_state_structure_fit_gives(scaler, key):
    shape = {"a": (3,), "b": (2, 3)}
    params, state = scaler.init(key, shape)
    _, fitted = scaler.fit({"a": data((5, 3)), "b": data((5, 2, 3))})
    assert jax.tree.structure(state) == jax.tree.structure(fitted)
    assert jax.tree.map(lambda a: (a.shape, a.dtype), state) == jax.tree.map(
        lambda a: (a.shape, a.dtype), fitted
    )
    x = {"a": jnp.ones((4, 3)), "b": jnp.ones((4, 2, 3))}
    assert jax.tree.all(jax.tree.map(np.array_equal, scaler(params, x, False, state)[0], x))


def test_the_output_keeps_the_input_dtype(x64):
    _, state = StandardScaler().fit(data())
    output = StandardScaler()((), jnp.ones((2, 3), jnp.float32), False, state)[0]
    assert output.dtype == jnp.float32


def test_passthrough_columns_are_left_alone_in_every_leaf():
    x = data()
    scaler = StandardScaler(passthrough=(0, 2))
    _, state = scaler.fit(x)
    output = scaled(scaler, x, state)
    np.testing.assert_allclose(output[:, [0, 2]], x[:, [0, 2]], rtol=1e-6)
    np.testing.assert_allclose(output[:, 1].std(), 1.0, rtol=1e-5)


def test_passthrough_can_name_columns_per_leaf():
    x = {"a": data((30, 3)), "b": data((30, 3), seed=1)}
    scaler = MinMaxScaler(passthrough=((), (1,)))
    _, state = scaler.fit(x)
    np.testing.assert_array_equal(state["scale"]["b"][1], 1.0)
    np.testing.assert_array_equal(state["center"]["b"][1], 0.0)
    assert float(state["scale"]["a"][1]) != 1.0


@pytest.mark.parametrize("bad", [(1.5,), (-1,), (True,), ((0,), 1), "0", [0.5]])
def test_a_bad_passthrough_fails_at_construction_naming_the_field(bad):
    with pytest.raises(ValueError, match="field 'passthrough' of StandardScaler"):
        StandardScaler(passthrough=bad)


def test_a_passthrough_column_beyond_the_features_is_a_shape_error(key):
    with pytest.raises(pmm.ShapeError, match="names column 3 of data leaf 0, which has 3"):
        StandardScaler(passthrough=(3,)).init(key, (3,))
    with pytest.raises(pmm.ShapeError, match="has 1 entries but the data has 2 leaves"):
        StandardScaler(passthrough=((0,),)).init(key, {"a": (3,), "b": (3,)})


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: MinMaxScaler(feature_range=(1.0, 0.0)), "feature_range"),
        (lambda: MinMaxScaler(feature_range=(0.0, float("inf"))), "feature_range"),
        (lambda: RobustScaler(quantile_range=(75, 25)), "quantile_range"),
        (lambda: RobustScaler(quantile_range=(-1, 50)), "quantile_range"),
    ],
)
def test_bad_ranges_fail_at_construction_naming_the_field(make, field):
    with pytest.raises(ValueError, match=f"field '{field}'"):
        make()


def test_fit_refuses_nan_naming_the_leaf_and_column():
    x = {"a": data(), "b": data()}
    x["b"][7, 2] = np.nan
    with pytest.raises(ValueError, match=r"x\['b'\] holds nan in column 2"):
        StandardScaler().fit(x)


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.ones((5, 3), np.int32), "int32 data; scalers take real floating data"),
        (np.ones((0, 3)), "at least one sample"),
        (np.ones(5), r"need \(samples, ..., features\)"),
        ({"a": np.ones((5, 3)), "b": np.ones((4, 3))}, "the same number in every leaf"),
    ],
    ids=["integers", "empty", "no-features", "sample-counts"],
)
def test_fit_refuses_data_it_cannot_summarise(x, message):
    with pytest.raises(ValueError, match=message):
        StandardScaler().fit(x)


def test_integer_input_shapes_are_refused_with_a_pointer_to_one_hot(key):
    with pytest.raises(pmm.ShapeError, match="OneHot"):
        StandardScaler().init(key, jax.ShapeDtypeStruct((3,), jnp.int32))


def test_calling_without_the_fitted_state_says_where_the_statistics_are():
    with pytest.raises(pmm.ShapeError, match="keeps its statistics in its state"):
        StandardScaler()((), jnp.ones((2, 3)), False, (), None)
