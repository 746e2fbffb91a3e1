"""MultiHeadAttention against softmax(Q K^T / sqrt(d)) V written out head by head in numpy, with
key padding masks, causality and cross-attention; dropout; and the shape checks on masks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm import nn
from tests.random_params import random_params

MHA = nn.MultiHeadAttention


def reference(params, queries, sources, mask, causal, num_heads):
    """Multi-head attention by hand: split the projections into heads by columns, attend per
    sample and head with numpy's softmax, concatenate the heads, project."""
    p = jax.tree.map(np.asarray, params)
    batch, targets = queries.shape[:2]
    length = sources.shape[1]
    width = p["query"]["weight"].shape[1]
    d = width // num_heads
    output = np.zeros((batch, targets, width))
    for b in range(batch):
        q_all = queries[b] @ p["query"]["weight"] + p["query"]["bias"]
        k_all = sources[b] @ p["key"]["weight"] + p["key"]["bias"]
        v_all = sources[b] @ p["value"]["weight"] + p["value"]["bias"]
        for h in range(num_heads):
            columns = slice(h * d, (h + 1) * d)
            q, k, v = q_all[:, columns], k_all[:, columns], v_all[:, columns]
            logits = q @ k.T / np.sqrt(d)
            for t in range(targets):
                for s in range(length):
                    if (mask is not None and not mask[b, s]) or (causal and s > t):
                        logits[t, s] = -np.inf
            weights = np.exp(logits - logits.max(axis=1, keepdims=True))
            weights /= weights.sum(axis=1, keepdims=True)
            output[b, :, columns] = weights @ v
    return output @ p["output"]["weight"] + p["output"]["bias"]


def padding_mask(batch, length, kept):
    """``mask[b, s]`` is True for the first ``kept[b]`` positions of sample ``b``."""
    return jnp.asarray(np.arange(length)[None, :] < np.asarray(kept)[:, None])


SELF = {"x": (6, 8), "mask": jax.ShapeDtypeStruct((6,), jnp.bool_)}
CROSS = {"q": (3, 8), "kv": (6, 5), "mask": jax.ShapeDtypeStruct((6,), jnp.bool_)}


def self_data(rng, masked):
    data = {"x": jnp.asarray(rng.normal(size=(2, 6, 8)), jnp.float32)}
    return {**data, "mask": padding_mask(2, 6, [4, 6])} if masked else data


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_self_attention_matches_the_formula_head_by_head(causal, masked):
    module = MHA(num_heads=4, causal=causal)
    data = self_data(np.random.default_rng(1), masked)
    params = random_params(module, SELF if masked else (6, 8))
    output = jax.jit(module, static_argnums=2)(
        params, data if masked else data["x"], False, (), None
    )
    mask = np.asarray(data["mask"]) if masked else None
    expected = reference(params, np.asarray(data["x"]), np.asarray(data["x"]), mask, causal, 4)
    np.testing.assert_allclose(output[0], expected, rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_cross_attention_matches_the_formula_with_its_own_sizes(causal):
    module = MHA(num_heads=2, features=7, qkv_features=6, causal=causal)
    rng = np.random.default_rng(2)
    data = {
        "q": jnp.asarray(rng.normal(size=(2, 3, 8)), jnp.float32),
        "kv": jnp.asarray(rng.normal(size=(2, 6, 5)), jnp.float32),
        "mask": padding_mask(2, 6, [2, 5]),
    }
    params = random_params(module, CROSS)
    assert params["key"]["weight"].shape == (5, 6) and params["output"]["weight"].shape == (6, 7)
    output, _ = jax.jit(module, static_argnums=2)(params, data, False, (), None)
    arrays = {name: np.asarray(value) for name, value in data.items()}
    expected = reference(params, arrays["q"], arrays["kv"], arrays["mask"], causal, 2)
    np.testing.assert_allclose(output, expected, rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_float64_attention_is_exact_to_float64_precision(causal, x64):
    module = MHA(num_heads=2, causal=causal, dtype="float64")
    rng = np.random.default_rng(3)
    data = {"x": jnp.asarray(rng.normal(size=(2, 6, 8))), "mask": padding_mask(2, 6, [3, 6])}
    params = random_params(module, SELF)
    output, _ = jax.jit(module, static_argnums=2)(params, data, False, (), None)
    arrays = {name: np.asarray(value) for name, value in data.items()}
    expected = reference(params, arrays["x"], arrays["x"], arrays["mask"], causal, 2)
    np.testing.assert_allclose(output, expected, rtol=1e-12, atol=1e-12)


def test_keys_outside_the_mask_do_not_change_the_output():
    module = MHA(num_heads=2)
    params = random_params(module, SELF)
    data = self_data(np.random.default_rng(4), masked=True)
    changed = {**data, "x": data["x"].at[0, 4:].set(100.0)}  # sample 0 keeps positions 0-3
    call = jax.jit(module, static_argnums=2)
    before, after = (call(params, d, False, (), None)[0] for d in (data, changed))
    np.testing.assert_allclose(after[0, :4], before[0, :4], rtol=1e-6, atol=1e-6)


def test_causal_attention_does_not_look_ahead():
    module = MHA(num_heads=2, causal=True)
    params = random_params(module, (6, 8))
    x = jnp.asarray(np.random.default_rng(5).normal(size=(1, 6, 8)), jnp.float32)
    call = jax.jit(module, static_argnums=2)
    before = call(params, x, False, (), None)[0]
    after = call(params, x.at[:, 3:].set(-7.0), False, (), None)[0]
    np.testing.assert_array_equal(after[:, :3], before[:, :3])
    assert not np.allclose(after[:, 3:], before[:, 3:])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_sample_whose_keys_are_all_masked_averages_every_value(dtype, x64):
    module = MHA(num_heads=2, dtype=dtype)
    params = random_params(module, SELF)
    x = jnp.asarray(np.random.default_rng(6).normal(size=(1, 6, 8)), dtype)
    data = {"x": x, "mask": jnp.zeros((1, 6), bool)}
    output, _ = jax.jit(module, static_argnums=2)(params, data, False, (), None)
    p = jax.tree.map(np.asarray, params)
    values = np.asarray(x[0]) @ p["value"]["weight"] + p["value"]["bias"]
    mean = values.mean(axis=0) @ p["output"]["weight"] + p["output"]["bias"]
    np.testing.assert_allclose(output[0], np.broadcast_to(mean, (6, 8)), rtol=1e-5, atol=1e-5)


def test_training_with_attention_dropout_needs_a_key():
    module = MHA(num_heads=2, dropout_rate=0.5)
    params = random_params(module, (6, 8))
    with pytest.raises(pmm.RngError, match=r"^MultiHeadAttention\(.*rng=jax.random.key"):
        module(params, jnp.ones((1, 6, 8)), True, (), None)


def test_attention_dropout_is_unbiased_and_only_active_while_training():
    module, plain = MHA(num_heads=2, dropout_rate=0.5), MHA(num_heads=2)
    params = random_params(module, (3, 4))
    x = jnp.asarray(np.random.default_rng(7).normal(size=(1, 3, 4)), jnp.float32)
    call = jax.jit(
        lambda m, training, key: m(params, x, training, (), key)[0], static_argnums=(0, 1)
    )
    evaluated = call(plain, False, None)
    np.testing.assert_array_equal(call(module, False, None), evaluated)
    np.testing.assert_allclose(call(plain, True, None), evaluated, rtol=1e-6)
    samples = jax.vmap(lambda key: call(module, True, key))(
        jax.random.split(jax.random.key(0), 2000)
    )
    assert not np.allclose(samples[0], samples[1])
    np.testing.assert_array_equal(
        call(module, True, jax.random.key(3)), call(module, True, jax.random.key(3))
    )
    spread = samples.std(axis=0) / np.sqrt(len(samples))
    assert np.all(np.abs(samples.mean(axis=0) - evaluated) < 5 * spread + 1e-4)


def test_the_params_hold_the_four_projections():
    def shapes(module, input_shape):
        params, state = jax.eval_shape(lambda: module.init(jax.random.key(0), input_shape))
        return jax.tree.map(lambda leaf: leaf.shape, params), state

    assert shapes(MHA(num_heads=2, qkv_features=4, features=3), CROSS) == (
        {
            "query": {"weight": (8, 4), "bias": (4,)},
            "key": {"weight": (5, 4), "bias": (4,)},
            "value": {"weight": (5, 4), "bias": (4,)},
            "output": {"weight": (4, 3), "bias": (3,)},
        },
        (),
    )
    no_bias, _ = shapes(MHA(num_heads=2, use_bias=False), (6, 8))
    assert all(set(projection) == {"weight"} for projection in no_bias.values())


def test_output_shape_is_found_from_sizes_for_a_sequence_too_long_to_attend():
    # a (batch, heads, seq, seq) attention matrix of 10**12 entries is never computed
    assert MHA(num_heads=8, features=2).output_shape((10**6, 64)) == (10**6, 2)
    assert MHA(num_heads=2).output_shape({"q": (None, 4), "kv": (9, 3)}) == (None, 4)


def test_the_checks_catch_a_mask_of_the_wrong_sequence_length():
    module = pmm.checked(MHA(num_heads=2))
    params = random_params(module, SELF)
    data = {"x": jnp.ones((2, 6, 8)), "mask": jnp.ones((2, 5), bool)}
    with pytest.raises(pmm.ShapeError, match=r"^MultiHeadAttention\(num_heads=2\): .*mask.*5"):
        module(params, data, False, (), None)


def test_the_checks_catch_a_mask_that_is_not_bool():
    module = pmm.checked(MHA(num_heads=2))
    params = random_params(module, SELF)
    data = {"x": jnp.ones((2, 6, 8)), "mask": jnp.ones((2, 6))}
    with pytest.raises(pmm.ShapeError, match=r"mask must be bool.*astype\(bool\)"):
        module(params, data, False, (), None)


def test_the_checks_catch_a_wrong_feature_count():
    module = pmm.checked(MHA(num_heads=2))
    params = random_params(module, (6, 8))
    with pytest.raises(pmm.ShapeError, match=r"params were built for.*\(6, 10\)"):
        module(params, jnp.ones((2, 6, 10)), False, (), None)


def test_a_mask_of_the_wrong_length_is_refused_even_without_checks():
    params = random_params(MHA(num_heads=2), SELF)
    data = {"x": jnp.ones((2, 6, 8)), "mask": jnp.ones((2, 1), bool)}  # would broadcast
    with pytest.raises(pmm.ShapeError, match="one bool per key position: mask"):
        MHA(num_heads=2)(params, data, False, (), None)


@pytest.mark.parametrize(
    ("input_shape", "message"),
    [
        ({"x": (6, 8), "mask": (6,)}, r"must be bool.*ShapeDtypeStruct\(\(6,\), jnp.bool_\)"),
        ({"x": (6, 8), "keys": (6, 8)}, r"dict with keys 'x'.*got keys \['keys', 'x'\]"),
        ((8,), r"\(seq, features\) per sample.*\(8,\)"),
        ((6, 7), r"splits the query features into 2 heads, but the queries have 7"),
        ({"q": (3, 8), "kv": (6, 8), "mask": jax.ShapeDtypeStruct((3,), jnp.bool_)}, "length 6"),
    ],
    ids=["float-mask", "unknown-key", "no-sequence-axis", "heads-do-not-divide", "mask-of-q"],
)
def test_init_refuses_inputs_it_cannot_attend_over(input_shape, message):
    with pytest.raises(pmm.ShapeError, match=message):
        MHA(num_heads=2).init(jax.random.key(0), input_shape)


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"num_heads": 0}, "num_heads"),
        ({"num_heads": 2, "qkv_features": 5}, "qkv_features"),
        ({"num_heads": 2, "features": 0}, "features"),
        ({"num_heads": 2, "dropout_rate": 1.0}, "dropout_rate"),
        ({"num_heads": 2, "causal": 1}, "causal"),
        ({"num_heads": 2, "dtype": "complex64"}, "dtype"),
        ({"num_heads": 2, "kernel_init": "kaiming"}, "kernel_init"),
    ],
)
def test_bad_hyperparameters_fail_at_construction_naming_the_field(fields, name):
    with pytest.raises(ValueError, match=f"field '{name}'"):
        MHA(**fields)


def test_a_transformer_block_composes_and_runs_under_the_checks():
    block = pmm.Residual(nn.LayerNorm() >> MHA(num_heads=2, causal=True)) >> pmm.Residual(
        nn.LayerNorm() >> nn.Linear(features=16) >> nn.GELU() >> nn.Linear(features=8)
    )
    params, state = block.init(jax.random.key(0), (None, 8))
    output, _ = jax.jit(pmm.checked(block), static_argnums=2)(
        params, jnp.ones((2, 5, 8)), False, state, None
    )
    assert output.shape == (2, 5, 8)
