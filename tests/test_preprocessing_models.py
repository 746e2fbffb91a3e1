"""Scalers inside models: raw inputs to raw targets in one model that trains, checks, jits, and
saves and loads as one file; OneHot and its inverse on integer ids."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pmm
from pmm.preprocessing import ArgMax, MinMaxScaler, OneHot, StandardScaler

X_SCALER, Y_SCALER = MinMaxScaler(), StandardScaler()
NET = pmm.nn.Linear(features=1)
MODEL = X_SCALER >> NET >> Y_SCALER.inverse()


def raw_data():
    x = np.linspace(0.0, 100.0, 64)[:, None]
    return x, 1000.0 * x + 5000.0  # far from unit scale in both


def fitted_model(key):
    """The whole model's params and state: the scalers' statistics, the net's init."""
    x, y = raw_data()
    (x_params, x_state), (y_params, y_state) = X_SCALER.fit(x), Y_SCALER.fit(y)
    net_params, net_state = NET.init(key, (1,))
    return (x_params, net_params, y_params), (x_state, net_state, y_state)


def train(model, params, state, x, y):
    return pmm.fit(
        model, params, state, x, y, optimizer=optax.adam(0.05), epochs=300, batch_size=64,
        progress=False,
    )  # fmt: skip


def test_the_model_is_the_scaler_then_the_net_then_the_inverse_by_hand(key):
    params, state = fitted_model(key)
    x, _ = raw_data()
    scaled = (x - x.min()) / (x.max() - x.min())
    net_output = scaled @ np.asarray(params[1]["weight"]) + np.asarray(params[1]["bias"])
    y_mean, y_std = np.asarray(state[2]["center"]), np.asarray(state[2]["scale"])
    expected = net_output * y_std + y_mean
    np.testing.assert_allclose(pmm.predict(MODEL, params, state, x), expected, rtol=1e-5)


def test_fitting_the_net_alone_on_scaled_data_gives_a_raw_model(key):
    x, y = raw_data()
    params, state = fitted_model(key)
    x_scaled = X_SCALER(params[0], jnp.asarray(x), False, state[0])[0]
    y_scaled = Y_SCALER(params[2], jnp.asarray(y), False, state[2])[0]
    result = train(NET, params[1], state[1], x_scaled, y_scaled)
    params = (params[0], result.params, params[2])
    np.testing.assert_allclose(pmm.predict(MODEL, params, state, x), y, rtol=1e-3)


def test_fitting_the_whole_model_on_raw_targets_trains_the_net_and_leaves_statistics_alone(key):
    x, y = raw_data()
    params, state = fitted_model(key)
    result = train(MODEL, params, state, x, y)
    for before, after in zip(jax.tree.leaves(state), jax.tree.leaves(result.state), strict=True):
        np.testing.assert_array_equal(after, before)
    np.testing.assert_allclose(pmm.predict(MODEL, result.params, result.state, x), y, rtol=1e-3)


def test_scalers_have_no_params_for_fit_or_sensitivities_to_touch(key):
    params, _ = fitted_model(key)
    paths = jax.tree.leaves(pmm.parameter_paths(MODEL, params))
    assert {type(path.module) for path in paths} == {pmm.nn.Linear}


def test_the_scaled_model_saves_and_loads_as_one_file(key, tmp_path):
    params, state = fitted_model(key)
    pmm.save(tmp_path / "model.pmm", MODEL, params, state, input_shape=(1,))
    model, loaded_params, loaded_state = pmm.load(tmp_path / "model.pmm")
    assert model == MODEL
    x, _ = raw_data()
    np.testing.assert_array_equal(
        pmm.predict(model, loaded_params, loaded_state, x), pmm.predict(MODEL, params, state, x)
    )


def test_the_scaled_model_passes_the_shape_checks_and_jits(key):
    params, state = fitted_model(key)
    x = jnp.asarray(raw_data()[0], jnp.float32)
    expected = MODEL(params, x, False, state, None)[0]
    checked = jax.jit(pmm.checked(MODEL), static_argnums=2)
    np.testing.assert_allclose(checked(params, x, False, state, None)[0], expected, rtol=1e-6)


IDS = jax.ShapeDtypeStruct((2,), jnp.int32)


def test_one_hot_gives_the_rows_of_the_identity_for_each_id():
    ids = jnp.array([[0, 3], [2, 1]])
    output, _ = OneHot(num_classes=4)((), ids, False, (), None)
    np.testing.assert_array_equal(output, np.eye(4)[np.asarray(ids)])
    assert output.dtype == jnp.result_type(float)


def test_one_hot_answers_output_shapes_with_the_class_axis_added():
    assert OneHot(num_classes=4).output_shape(IDS) == jax.ShapeDtypeStruct((2, 4), jnp.float32)
    shape = {"a": IDS, "b": jax.ShapeDtypeStruct((), jnp.int8)}
    assert OneHot(num_classes=4).output_shape(shape)["b"] == jax.ShapeDtypeStruct((4,), jnp.float32)


def test_one_hot_then_a_layer_runs_on_integer_ids_with_checks(key):
    model = OneHot(num_classes=4) >> pmm.nn.Flatten() >> pmm.nn.Linear(features=2)
    params, state = model.init(key, IDS)
    ids = jnp.array([[0, 3], [2, 1], [1, 1]])
    output, _ = pmm.checked(model)(params, ids, False, state, None)
    assert output.shape == (3, 2)


def test_argmax_undoes_one_hot_and_labels_class_scores():
    ids = jnp.array([[0, 3], [2, 1]])
    encoded, _ = OneHot(num_classes=4)((), ids, False, (), None)
    decoded, _ = pmm.checked(OneHot(num_classes=4).inverse())((), encoded, False, (), None)
    np.testing.assert_array_equal(decoded, ids)
    assert decoded.dtype == jnp.int32
    scores = jnp.array([[0.1, 2.0, -1.0]])
    assert int(ArgMax(num_classes=3)((), scores, False, (), None)[0][0]) == 1


def test_one_hot_fit_checks_the_ids_are_in_range():
    assert OneHot(num_classes=3).fit({"a": np.array([0, 2, 1])}) == ((), ())
    with pytest.raises(ValueError, match=r"x\['a'\] holds the id 3, outside \[0, 3\)"):
        OneHot(num_classes=3).fit({"a": np.array([0, 3])})
    with pytest.raises(ValueError, match="float64 data; OneHot takes integer class ids"):
        OneHot(num_classes=3).fit(np.array([0.0, 1.0]))


def test_one_hot_refuses_a_floating_input_shape_saying_how_to_give_ids(key):
    with pytest.raises(pmm.ShapeError, match=r"ShapeDtypeStruct\(shape, jnp.int32\)"):
        OneHot(num_classes=3).init(key, (2,))


def test_argmax_refuses_scores_for_another_number_of_classes(key):
    with pytest.raises(pmm.ShapeError, match="takes 3 class scores on the last axis"):
        ArgMax(num_classes=3).init(key, (4,))


@pytest.mark.parametrize("make", [lambda: OneHot(num_classes=0), lambda: ArgMax(num_classes=1.5)])
def test_bad_class_counts_fail_at_construction_naming_the_field(make):
    with pytest.raises(ValueError, match="field 'num_classes'"):
        make()
