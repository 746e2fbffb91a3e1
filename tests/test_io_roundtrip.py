"""pmm.save then pmm.load gives back the same module, bit-identical arrays and identical outputs."""

import io
import json
import math
import zipfile

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
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


class Block(pmm.Composite):
    """A user composite: its params are those of the module ``build`` returns."""

    width: int = 2

    def build(self):
        return pmm.nn.Linear(features=self.width) >> pmm.nn.Tanh()


class Square(pmm.Parameterless):
    """A user parameterless module."""

    def apply(self, params, data, training, state, rng):
        return data**2, state


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
complex_dtype = st.sampled_from(("complex64", "complex128"))
matrix_size, num_eig = st.integers(2, 3), st.integers(1, 2)
same_shape = st.one_of(
    tagged,
    st.builds(Scale, finite),
    st.builds(Counter),
    st.builds(Square),
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
    st.builds(Block, width=st.integers(1, 3)),
    st.builds(
        pmm.AEPMM, matrix_size, num_eig, which=st.sampled_from(("SA", "LA")), dtype=complex_dtype
    ),
    st.builds(
        pmm.AOPMM,
        matrix_size,
        num_eig,
        output_size=st.integers(1, 2),
        use_expectation_values=st.booleans(),
        output_bias=st.booleans(),
        dtype=complex_dtype,
    ),
    st.builds(
        lambda size, rank, dtype: (
            pmm.LowRankAffineHermitianMatrix(size, rank=rank, dtype=dtype) >> pmm.Eigenvalues(1)
        ),
        matrix_size,
        st.integers(1, 2),
        complex_dtype,
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
    _assert_round_trips(tmp_path_factory.mktemp("io") / "model.pmm", model, seed, with_shape)


@pytest.mark.parametrize(
    "model",
    [
        pmm.AEPMM(matrix_size=3, num_eig=2),
        pmm.AOPMM(matrix_size=3, num_eig=2, output_size=2, dtype="complex128"),
        pmm.AOPMM(matrix_size=2, use_expectation_values=True, output_bias=False),
        pmm.LowRankAffineHermitianMatrix(3, rank=2) >> pmm.Eigenvectors(1),
        pmm.Residual(Block(width=3)) >> Square(),
    ],
)
def test_pmm_layers_and_user_composites_round_trip_exactly(tmp_path, model):
    _assert_round_trips(tmp_path / "model.pmm", model, seed=0, with_shape=True)


def _assert_round_trips(path, model, seed, with_shape):
    with jax.enable_x64(True):
        params, state = model.init(jax.random.key(seed), (3,))
        # Files record dtypes but not JAX's weak-type flag (see the test below), which changes
        # promotion when a weakly typed param meets narrower data, e.g. float32 eigenvalues.
        params = jax.tree.map(lambda leaf: jnp.asarray(leaf, leaf.dtype), params)
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


def test_fortran_order_members_written_by_another_tool_load_with_their_values(tmp_path):
    weight = np.arange(6, dtype=np.float32).reshape(2, 3)
    pmm.save(tmp_path / "m.pmm", Scale(), {"s": weight})
    with zipfile.ZipFile(tmp_path / "m.pmm") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asfortranarray(weight))
    members["params/0.npy"] = buffer.getvalue()
    with zipfile.ZipFile(tmp_path / "m.pmm", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    _assert_bit_identical(pmm.load(tmp_path / "m.pmm")[1], {"s": jnp.asarray(weight)})


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 1)])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "complex64"])
def test_zero_size_arrays_round_trip(tmp_path, shape, dtype):
    pmm.save(tmp_path / "m.pmm", Scale(), {"s": jnp.zeros(shape, dtype)})
    _assert_bit_identical(pmm.load(tmp_path / "m.pmm")[1], {"s": jnp.zeros(shape, dtype)})
