"""pmm.save then pmm.load gives back the same module, bit-identical arrays and identical outputs."""

import json
import math

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings

import pmm
from tests.modules import Counter, Dense, Scale

PARAM_DTYPES = ("float16", "bfloat16", "float32", "float64", "complex64", "complex128")
STATE_DTYPES = ("bool", "uint8", "int32", "int64")


class Tagged(pmm.Module):
    """Hyperparameters of every storable kind; params of ``dtype`` in dicts, lists and tuples."""

    dtype: str = "float32"
    state_dtype: str = "int32"
    label: str = ""
    offset: complex = 0j
    limit: float | None = None
    sizes: tuple = ()
    flag: bool = False

    def init(self, rng, input_shape):
        weight = jax.random.normal(rng, input_shape).astype(self.dtype)
        params = {"w": weight, "parts": [weight[:1], None, (weight.sum(),)]}
        state = {"count": jnp.zeros((), self.state_dtype), "seen": (jnp.ones(2, "uint8"), ())}
        return params, state

    def apply(self, params, data, training, state, rng):
        return data * jnp.abs(params["w"]).astype(data.dtype), state


finite = st.floats(allow_nan=False, allow_infinity=False, width=32)
nested = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=5) | finite,
    lambda inner: st.lists(inner, max_size=3).map(tuple),
    max_leaves=6,
)
tagged = st.builds(
    Tagged,
    dtype=st.sampled_from(PARAM_DTYPES),
    state_dtype=st.sampled_from(STATE_DTYPES),
    label=st.text(max_size=8),
    offset=st.complex_numbers(allow_nan=False, max_magnitude=1e300),
    limit=st.none() | st.floats(allow_nan=False),
    sizes=nested,
    flag=st.booleans(),
)
real_dtype = st.sampled_from(("float32", "float64"))
same_shape = st.one_of(
    tagged,
    st.builds(Scale, finite),
    st.builds(Counter),
    st.builds(pmm.nn.BatchNorm, momentum=st.floats(0, 1), dtype=real_dtype),
)
any_shape = st.one_of(
    same_shape,
    st.builds(Dense, features=st.integers(1, 3)),
    st.builds(pmm.nn.Linear, features=st.integers(1, 3), use_bias=st.booleans(), dtype=real_dtype),
    st.builds(
        pmm.nn.MLP,
        hidden=st.lists(st.integers(1, 3), max_size=2).map(tuple),
        features=st.integers(1, 3),
        activation=st.sampled_from(("relu", "tanh")),
    ),
)


def _combined(children):
    branches = st.lists(children, min_size=1, max_size=3)
    return st.one_of(
        branches.map(lambda layers: pmm.Sequential(*layers)),
        branches.map(lambda bs: pmm.Sequential(pmm.Parallel(*bs), pmm.Concatenate())),
        branches.map(
            lambda bs: pmm.Parallel(**{f"b{i}": b for i, b in enumerate(bs)}) >> pmm.Concatenate()
        ),
        same_shape.map(pmm.Residual),
    )


models = st.recursive(any_shape, _combined, max_leaves=6)


def _assert_bit_identical(loaded, saved):
    assert jax.tree.structure(loaded) == jax.tree.structure(saved)
    for new, old in zip(jax.tree.leaves(loaded), jax.tree.leaves(saved), strict=True):
        assert isinstance(new, jax.Array)
        assert new.dtype == old.dtype and new.shape == old.shape
        assert np.asarray(new).tobytes() == np.asarray(old).tobytes()


@settings(max_examples=30, deadline=None)
@given(model=models, seed=st.integers(0, 2**31 - 1), with_shape=st.booleans())
def test_random_module_trees_round_trip_exactly(tmp_path_factory, model, seed, with_shape):
    path = tmp_path_factory.mktemp("io") / "model.pmm"
    with jax.enable_x64(True):
        params, state = model.init(jax.random.key(seed), (3,))
        pmm.save(path, model, params, state, input_shape=(3,) if with_shape else None)
        loaded, loaded_params, loaded_state = pmm.load(path)
        assert loaded == model and repr(loaded) == repr(model)
        _assert_bit_identical(loaded_params, params)
        _assert_bit_identical(loaded_state, state)
        data = jax.random.normal(jax.random.key(1), (4, 3), jnp.float64)
        expected = model(params, data, False, state, None)
        _assert_bit_identical(loaded(loaded_params, data, False, loaded_state, None), expected)


def test_weakly_typed_arrays_load_strongly_typed(tmp_path):
    weak = jnp.full((3,), 2.0)  # files record dtypes; JAX's weak-type promotion flag is not kept
    assert weak.weak_type
    pmm.save(tmp_path / "m.pmm", Scale(), {"s": weak})
    loaded = pmm.load(tmp_path / "m.pmm")[1]["s"]
    assert loaded.dtype == weak.dtype and not loaded.weak_type


def test_the_file_is_an_archive_numpy_reads_without_pickle(tmp_path):
    model = Scale(2.0) >> Counter()
    params, state = model.init(jax.random.key(0), (3,))
    pmm.save(tmp_path / "m.pmm", model, params, state)
    with np.load(tmp_path / "m.pmm", allow_pickle=False) as archive:
        header = json.loads(archive["header"].tobytes())
        assert sorted(archive.files) == ["header", *sorted(header["arrays"])]
        record = header["arrays"]["params/0"]
        assert record == {"path": "params[0]['s']", "dtype": "float32", "shape": [3]}
        np.testing.assert_array_equal(archive["params/0"], params[0]["s"])
    assert header["module"]["class"] == "pmm.Sequential"
    assert header["pmm_version"] == pmm.__version__


def test_non_finite_and_complex_hyperparameters_keep_their_values_and_types(tmp_path):
    model = Tagged(offset=complex(math.inf, -0.0), limit=math.nan, sizes=(1.0, (2, None), "x"))
    pmm.save(tmp_path / "m.pmm", model, *model.init(jax.random.key(0), (2,)))
    loaded = pmm.load(tmp_path / "m.pmm")[0]
    assert math.isnan(loaded.limit)
    assert loaded.offset == complex(math.inf, -0.0) and math.copysign(1, loaded.offset.imag) < 0
    assert loaded.sizes == (1.0, (2, None), "x") and isinstance(loaded.sizes[0], float)
    assert isinstance(loaded.sizes[1], tuple)


def test_bfloat16_arrays_round_trip_bit_for_bit(tmp_path):
    weight = jax.random.normal(jax.random.key(0), (5,)).astype(jnp.bfloat16)
    pmm.save(tmp_path / "m.pmm", Scale(), {"s": weight})
    _assert_bit_identical(pmm.load(tmp_path / "m.pmm")[1], {"s": weight})


def test_complex_and_double_precision_layers_round_trip(tmp_path, x64):
    model = pmm.nn.Linear(features=2, dtype="complex128") >> pmm.nn.BatchNorm(dtype="float64")
    params, state = model.init(jax.random.key(0), (3,))
    pmm.save(tmp_path / "m.pmm", model, params, state, input_shape=(3,))
    loaded, loaded_params, loaded_state = pmm.load(tmp_path / "m.pmm")
    assert loaded == model
    _assert_bit_identical(loaded_params, params)
    _assert_bit_identical(loaded_state, state)


def test_numpy_leaves_load_as_jax_arrays(tmp_path):
    pmm.save(tmp_path / "m.pmm", Scale(), {"s": np.arange(3, dtype=np.float32)})
    _assert_bit_identical(pmm.load(tmp_path / "m.pmm")[1], {"s": jnp.arange(3.0)})


def test_a_tree_input_shape_with_unknown_sizes_is_stored_and_checked(tmp_path):
    model = pmm.Select("a") >> Scale()
    params, state = model.init(jax.random.key(0), {"a": (3,), "b": (None, 2)})
    pmm.save(tmp_path / "m.pmm", model, params, state, input_shape={"a": (3,), "b": (None, 2)})
    with np.load(tmp_path / "m.pmm", allow_pickle=False) as archive:
        header = json.loads(archive["header"].tobytes())
    assert header["input_shape"] == {"dict": {"a": {"shape": [3]}, "b": {"shape": [None, 2]}}}
    assert pmm.load(tmp_path / "m.pmm")[0] == model


def test_saving_again_replaces_the_file(tmp_path):
    pmm.save(tmp_path / "m.pmm", Scale(1.0), {"s": jnp.ones(2)})
    pmm.save(tmp_path / "m.pmm", Scale(3.0), {"s": jnp.ones(4)})
    module, params, _ = pmm.load(tmp_path / "m.pmm")
    assert module == Scale(3.0) and params["s"].shape == (4,)
    assert [p.name for p in tmp_path.iterdir()] == ["m.pmm"]
