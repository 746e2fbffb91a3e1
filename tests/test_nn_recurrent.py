"""GRUCell and LSTMCell against their equations step by step in numpy; Scan against a Python loop
over time; Scan as a combinator (one compiled step, errors located in the cell, scopes, keys)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm import nn
from tests.random_params import random_params


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def gru_step(p, x, h):
    """The GRU equations of GRUCell's docstring, one gate block at a time."""
    F = h.shape[-1]
    W_i, W_h, b_i, b_h = (
        np.asarray(p[k]) for k in ("input_weight", "hidden_weight", "input_bias", "hidden_bias")
    )
    block = lambda a, g: a[..., g * F : (g + 1) * F]  # noqa: E731
    r = sigmoid(x @ block(W_i, 0) + block(b_i, 0) + h @ block(W_h, 0) + block(b_h, 0))
    z = sigmoid(x @ block(W_i, 1) + block(b_i, 1) + h @ block(W_h, 1) + block(b_h, 1))
    n = np.tanh(x @ block(W_i, 2) + block(b_i, 2) + r * (h @ block(W_h, 2) + block(b_h, 2)))
    return (1 - z) * n + z * h


def lstm_step(p, x, h, c):
    """The LSTM equations of LSTMCell's docstring, gates in the order i, f, g, o."""
    F = h.shape[-1]
    W_i, W_h, b = (np.asarray(p[k]) for k in ("input_weight", "hidden_weight", "bias"))
    pre = [
        x @ W_i[:, g * F : (g + 1) * F] + h @ W_h[:, g * F : (g + 1) * F] + b[g * F : (g + 1) * F]
        for g in range(4)
    ]
    i, f, g, o = sigmoid(pre[0]), sigmoid(pre[1]), np.tanh(pre[2]), sigmoid(pre[3])
    c = f * c + i * g
    return o * np.tanh(c), c


def test_a_gru_step_follows_the_equations(x64):
    cell = nn.GRUCell(features=4, dtype="float64")
    params = random_params(cell, scale=0.5, input_shape={"x": (3,), "h": (4,)})
    rng = np.random.default_rng(1)
    x, h = rng.normal(size=(5, 3)), rng.normal(size=(5, 4))
    data = {"x": jnp.asarray(x), "h": jnp.asarray(h)}
    output, state = jax.jit(cell, static_argnums=2)(params, data, False, (), None)
    np.testing.assert_allclose(output["h"], gru_step(params, x, h), rtol=1e-12)
    assert set(output) == {"h"} and state == ()


def test_an_lstm_step_follows_the_equations(x64):
    cell = nn.LSTMCell(features=4, dtype="float64")
    params = random_params(cell, scale=0.5, input_shape={"x": (3,), "h": (4,), "c": (4,)})
    rng = np.random.default_rng(2)
    x, h, c = rng.normal(size=(5, 3)), rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    data = {"x": jnp.asarray(x), "h": jnp.asarray(h), "c": jnp.asarray(c)}
    output, _ = jax.jit(cell, static_argnums=2)(params, data, False, (), None)
    expected_h, expected_c = lstm_step(params, x, h, c)
    np.testing.assert_allclose(output["h"], expected_h, rtol=1e-12)
    np.testing.assert_allclose(output["c"], expected_c, rtol=1e-12)


def test_the_lstm_forget_bias_starts_at_one_and_the_others_at_zero():
    params, _ = nn.LSTMCell(features=3).init(jax.random.key(0), {"x": (2,), "h": (3,), "c": (3,)})
    np.testing.assert_array_equal(
        params["bias"].reshape(4, 3), [[0] * 3, [1] * 3, [0] * 3, [0] * 3]
    )


def test_each_gate_block_of_the_hidden_weight_starts_orthogonal():
    params, _ = nn.GRUCell(features=5).init(jax.random.key(0), {"x": (2,), "h": (5,)})
    for gate in range(3):
        block = np.asarray(params["hidden_weight"][:, gate * 5 : (gate + 1) * 5])
        np.testing.assert_allclose(block.T @ block, np.eye(5), atol=1e-5)
    assert params["input_weight"].shape == (2, 15)


def scan_by_hand(step, xs, carry, reverse):
    """The loop Scan replaces: ``step`` over axis 1 of ``xs``, outputs in input order."""
    order = range(xs.shape[1])[::-1] if reverse else range(xs.shape[1])
    outputs = [None] * xs.shape[1]
    for t in order:
        carry = step(xs[:, t], carry)
        outputs[t] = carry[0]
    return np.stack(outputs, axis=1), carry


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_scan_of_a_gru_equals_the_loop_over_time(reverse, x64):
    model = nn.Scan(nn.GRUCell(features=4, dtype="float64"), reverse=reverse)
    params = random_params(model, (7, 3), scale=0.5)
    xs = np.random.default_rng(3).normal(size=(2, 7, 3))
    output, _ = jax.jit(model, static_argnums=2)(params, jnp.asarray(xs), False, (), None)
    expected, _ = scan_by_hand(
        lambda x, c: (gru_step(params, x, c[0]),), xs, (np.zeros((2, 4)),), reverse
    )
    np.testing.assert_allclose(output, expected, rtol=1e-12)


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_scan_of_an_lstm_returns_the_last_step_from_a_given_carry(reverse, x64):
    model = nn.Scan(
        nn.LSTMCell(features=4, dtype="float64"), reverse=reverse, return_sequences=False
    )
    params = random_params(model, (6, 3), scale=0.5)
    rng = np.random.default_rng(4)
    xs, h, c = rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    data = {"x": jnp.asarray(xs), "h": jnp.asarray(h), "c": jnp.asarray(c)}
    output, _ = jax.jit(model, static_argnums=2)(params, data, False, (), None)
    _, (expected, _) = scan_by_hand(
        lambda x, carry: lstm_step(params, x, *carry), xs, (h, c), reverse
    )
    np.testing.assert_allclose(output, expected, rtol=1e-12)


def test_scan_compiles_one_step_for_any_length():
    model = nn.Scan(nn.GRUCell(features=4))
    params = random_params(model, (None, 3))

    def equations(length):
        jaxpr = jax.make_jaxpr(lambda x: model(params, x, False, (), None)[0])(
            jnp.ones((2, length, 3))
        )
        return [str(e.primitive) for e in jaxpr.eqns]

    assert equations(4) == equations(400)
    assert equations(4).count("scan") == 1


def test_scan_with_an_unknown_length_inits_and_answers_unknown():
    model = nn.Scan(nn.LSTMCell(features=2))
    params, state = model.init(jax.random.key(0), (None, 3))
    assert params["input_weight"].shape == (3, 8) and state == ()
    assert model.output_shape((None, 3)) == (None, 2)
    assert nn.Scan(nn.LSTMCell(features=2), return_sequences=False).output_shape((None, 3)) == (2,)


def test_errors_inside_the_cell_are_located_at_scan_then_the_cell():
    model = pmm.checked(nn.Scan(nn.GRUCell(features=8)))
    params = random_params(model, (5, 3))
    with pytest.raises(
        pmm.ShapeError, match=r"^Scan > GRUCell\(features=8\): the input does not match"
    ):
        model(params, jnp.ones((2, 5, 4)), False, (), None)


def test_the_cell_runs_inside_the_named_scope_of_its_path():
    model = nn.Scan(nn.GRUCell(features=2))
    params = random_params(model, (5, 3))
    lowered = jax.jit(model, static_argnums=2).lower(params, jnp.ones((1, 5, 3)), False, (), None)
    assert "Scan/GRUCell(features=2)" in lowered.as_text(debug_info=True)


class NoisyCell(nn.RecurrentCell):
    """A user's cell: ``h' = h + u`` with ``u`` uniform from the step's key (no params)."""

    def carry_shape(self, x_shape):
        return {"h": x_shape}

    def init(self, rng, input_shape):
        self.step_input_shape(input_shape)
        return (), ()

    def apply(self, params, data, training, state, rng):
        noise = jax.random.uniform(rng, data["x"].shape, data["h"].dtype)
        return {"h": data["h"] + noise}, state


def test_each_step_gets_its_own_key_from_the_scan_key():
    model = nn.Scan(NoisyCell())
    output, _ = model((), jnp.zeros((1, 4, 2)), False, (), jax.random.key(0))
    steps = np.diff(np.concatenate([np.zeros((1, 1, 2)), output], axis=1), axis=1)
    assert len({tuple(step) for step in steps[0]}) == 4
    np.testing.assert_array_equal(
        output, model((), jnp.zeros((1, 4, 2)), False, (), jax.random.key(0))[0]
    )


def test_a_cell_without_a_dtype_field_runs_in_the_dtype_of_the_data():
    """Regression: Scan read ``cell.dtype``, which a user's own cell need not have."""
    output, _ = nn.Scan(NoisyCell())(
        (), jnp.zeros((1, 3, 2), jnp.float16), False, (), jax.random.key(0)
    )
    assert output.dtype == jnp.float16


class CountingCell(nn.RecurrentCell):
    """A cell that keeps state: Scan refuses it."""

    def carry_shape(self, x_shape):
        return {"h": x_shape}

    def init(self, rng, input_shape):
        return (), {"count": jnp.zeros(())}

    def apply(self, params, data, training, state, rng):
        return {"h": data["x"]}, state


def test_scan_refuses_a_cell_that_keeps_state():
    with pytest.raises(pmm.ShapeError, match=r"keeps no state.*stateless cell"):
        nn.Scan(CountingCell()).init(jax.random.key(0), (4, 2))


def test_scan_refuses_a_module_that_is_not_a_recurrent_cell():
    with pytest.raises(
        ValueError, match=r"field 'cell' of Scan is Linear\(features=2\), not a recurrent cell"
    ):
        nn.Scan(nn.Linear(features=2))


@pytest.mark.parametrize(
    ("input_shape", "message"),
    [
        ((3,), r"no time axis; give \(batch, time, features\)"),
        ({"x": (5, 3), "h": (7,)}, r"carries \{'h': \(8,\)\}.*'h': \(batch, 8\)"),
        ({"h": (8,)}, r"sequence as 'x'"),
    ],
    ids=["no-time-axis", "wrong-carry", "no-x"],
)
def test_scan_refuses_data_that_is_not_a_sequence_for_its_cell(input_shape, message):
    with pytest.raises(pmm.ShapeError, match=message):
        nn.Scan(nn.GRUCell(features=8)).init(jax.random.key(0), input_shape)


def test_a_cell_given_a_whole_sequence_says_to_wrap_it_in_scan():
    with pytest.raises(pmm.ShapeError, match=r"use pmm.nn.Scan\(GRUCell\(\.\.\.\)\)"):
        nn.GRUCell(features=3).init(jax.random.key(0), (5, 3))
    with pytest.raises(pmm.ShapeError, match=r"use pmm.nn.Scan\(LSTMCell"):
        nn.LSTMCell(features=3)((), jnp.ones((2, 3)), False, (), None)


def test_a_cell_given_the_wrong_carry_names_the_one_it_needs():
    with pytest.raises(pmm.ShapeError, match=r"needs the carry \{'h': \(3,\), 'c': \(3,\)\}"):
        nn.LSTMCell(features=3).init(jax.random.key(0), {"x": (2,), "h": (3,)})


@pytest.mark.parametrize("cls", [nn.GRUCell, nn.LSTMCell])
@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"features": 0}, "features"),
        ({"features": 2, "dtype": "complex64"}, "dtype"),
        ({"features": 2, "kernel_init": "nope"}, "kernel_init"),
        ({"features": 2, "recurrent_init": "nope"}, "recurrent_init"),
    ],
)
def test_bad_cell_hyperparameters_fail_at_construction_naming_the_field(cls, fields, name):
    with pytest.raises(ValueError, match=f"field '{name}'"):
        cls(**fields)


def test_an_embedding_gru_classifier_runs_on_ids_under_the_checks():
    ids = jax.ShapeDtypeStruct((None,), jnp.int32)
    model = (
        nn.Embedding(num_embeddings=10, features=4)
        >> nn.Scan(nn.GRUCell(features=6), return_sequences=False)
        >> nn.Linear(features=2)
    )
    assert model.output_shape(jax.ShapeDtypeStruct((7,), jnp.int32)) == jax.ShapeDtypeStruct(
        (2,), jnp.float32
    )
    params, state = model.init(jax.random.key(0), ids)
    tokens = jax.random.randint(jax.random.key(1), (3, 7), 0, 10)
    output, _ = jax.jit(pmm.checked(model), static_argnums=2)(params, tokens, False, state, None)
    assert output.shape == (3, 2)
