"""Combinators (DESIGN.md section 3): each equals calling its children by hand."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from tests.modules import Counter, Dense, Noise, Scale


def assert_trees_equal(actual, expected):
    assert jax.tree.structure(actual) == jax.tree.structure(expected)
    jax.tree.map(np.testing.assert_array_equal, actual, expected)


def test_shift_flattens_into_one_sequential():
    a, b, c = Scale(1.0), Scale(2.0), Scale(3.0)
    assert a >> b >> c == pmm.Sequential(a, b, c)
    assert a >> (b >> c) == pmm.Sequential(a, b, c)
    assert pmm.Sequential(a, pmm.Sequential(b, c)) != pmm.Sequential(a, b, c)


def test_sequential_equals_chaining_the_children_by_hand(key):
    layers = (Dense(features=4), Counter(), Noise(), Dense(features=2))
    model = pmm.Sequential(*layers)
    params, state = model.init(key, (3,))
    data, rng = jax.random.normal(key, (5, 3)), jax.random.key(7)

    out, new_state = model(params, data, True, state, rng)

    by_hand, states = data, []
    for layer, p, s, k in zip(
        layers, params, state, jax.random.split(rng, len(layers)), strict=True
    ):
        by_hand, s = layer(p, by_hand, True, s, k)
        states.append(s)
    assert_trees_equal(out, by_hand)
    assert_trees_equal(new_state, tuple(states))


def test_sequential_init_threads_shapes_and_splits_the_key(key):
    model = Dense(features=4) >> Dense(features=2)
    params, state = model.init(key, (3,))
    first, second = jax.random.split(key)
    assert_trees_equal(
        params, (Dense(features=4).init(first, (3,))[0], Dense(features=2).init(second, (4,))[0])
    )
    assert state == ((), ())


def test_a_missing_rng_reaches_every_child_as_none(key):
    model = Noise() >> Noise()
    data = jnp.ones((2, 3))
    out, _ = model(*model.init(key, (3,))[:1], data, True, ((), ()), None)
    np.testing.assert_array_equal(out, data)


def test_the_empty_tuple_stands_for_the_state_of_stateless_children(key):
    model = Dense(features=2) >> Scale()
    params, _ = model.init(key, (3,))
    out, state = model(params, jnp.ones((2, 3)))
    assert out.shape == (2, 2) and state == ()


def test_state_is_threaded_through_nested_combinators(key):
    model = Counter() >> pmm.Parallel(a=Counter(), b=Counter() >> Counter())
    params, state = model.init(key, (3,))
    for _ in range(3):
        _, state = model(params, jnp.ones((2, 3)), True, state, None)
    assert jax.tree.leaves(state) == [3, 3, 3, 3]
    _, evaluated = model(params, jnp.ones((2, 3)), False, state, None)
    assert jax.tree.leaves(evaluated) == [3, 3, 3, 3]


def test_parallel_positional_gives_tuples_and_named_gives_dicts(key):
    positional = pmm.Parallel(Scale(2.0), Dense(features=4))
    named = pmm.Parallel(wide=Dense(features=4), double=Scale(2.0))
    data = jax.random.normal(key, (5, 3))
    for model in (positional, named):
        params, state = model.init(key, (3,))
        out, _ = model(params, data, False, state, None)
        assert jax.tree.map(lambda leaf: leaf.shape[1:], out) == model.output_shape((3,))
    assert named.names == ("double", "wide")
    assert named == pmm.Parallel(double=Scale(2.0), wide=Dense(features=4))


def test_parallel_gives_every_branch_the_same_input_and_its_own_key(key):
    model = pmm.Parallel(first=Noise(), second=Noise())
    data, rng = jnp.zeros((4, 2)), jax.random.key(3)
    out, _ = model(*model.init(key, (2,))[:1], data, True, (), rng)
    keys = jax.random.split(rng, 2)
    np.testing.assert_array_equal(out["first"], Noise()((), data, True, (), keys[0])[0])
    np.testing.assert_array_equal(out["second"], Noise()((), data, True, (), keys[1])[0])


def test_parallel_refuses_positional_and_named_branches_together():
    with pytest.raises(ValueError, match="positional or all by name"):
        pmm.Parallel(Scale(), b=Scale())


def test_residual_adds_the_module_output(key):
    model = pmm.Residual(Dense(features=3))
    params, _ = model.init(key, (3,))
    data = jax.random.normal(key, (4, 3))
    np.testing.assert_array_equal(model(params, data)[0], data + Dense(features=3)(params, data)[0])


def test_residual_adds_leaf_by_leaf_for_pytree_data(key):
    model = pmm.Residual(Noise())  # the identity when rng is None
    tree = {"a": jnp.ones((2, 3)), "b": (jnp.ones((2, 1)),)}
    params, _ = model.init(key, {"a": (3,), "b": ((1,),)})
    out, _ = model(params, tree)
    assert_trees_equal(out, jax.tree.map(lambda leaf: 2 * leaf, tree))


def test_residual_refuses_a_module_that_changes_the_shape(key):
    with pytest.raises(
        pmm.ShapeError, match=r"must keep the shape: input \(3,\), module output \(2,\)"
    ):
        pmm.Residual(Dense(features=2)).init(key, (3,))


def test_select_picks_by_key_and_index_paths(key):
    data = {"x": (jnp.ones((2, 3)), jnp.zeros((2, 4))), "y": jnp.ones((2, 1))}
    assert pmm.Select(("x", 1))((), data)[0].shape == (2, 4)
    assert pmm.Select("y")((), data)[0].shape == (2, 1)
    assert pmm.Select(("x", 1)).output_shape({"x": ((3,), (4,)), "y": (1,)}) == (4,)


def test_select_names_the_missing_entry():
    with pytest.raises(pmm.ShapeError, match=r"has no entry \['z'\]; it has \['x', 'y'\]"):
        pmm.Select("z").output_shape({"x": (3,), "y": (1,)})
    with pytest.raises(pmm.ShapeError, match="it is a leaf"):
        pmm.Select(("x", 0))((), {"x": jnp.ones((2, 3))})


def test_concatenate_joins_leaves_in_tree_order(key):
    data = {"b": jnp.zeros((2, 1)), "a": jnp.ones((2, 3))}
    out, _ = pmm.Concatenate()((), data)
    np.testing.assert_array_equal(out, np.concatenate([np.ones((2, 3)), np.zeros((2, 1))], axis=-1))
    assert pmm.Concatenate().output_shape({"a": (3,), "b": (1,)}) == (4,)
    assert pmm.Concatenate(axis=1).output_shape(((2, 5), (3, 5))) == (5, 5)


def test_concatenate_refuses_mismatched_leaves():
    with pytest.raises(pmm.ShapeError, match="sizes differ"):
        pmm.Concatenate().output_shape(((2, 5), (3, 4)))


def test_wrong_params_say_what_was_expected_and_where(key):
    model = Scale() >> pmm.Parallel(a=Scale(), b=Scale())
    params, _ = model.init(key, (3,))
    broken = (params[0], {"a": params[1]["a"]})
    with pytest.raises(
        pmm.ShapeError, match=r"^Sequential\[1\] > Parallel.*keys \['a', 'b'\]\), got keys \['a'\]"
    ):
        model(broken, jnp.ones((2, 3)))


@pytest.mark.parametrize(
    "model",
    [Scale() >> Dense(features=2), pmm.Parallel(Scale(), Scale(3.0)), pmm.Parallel(a=Scale()),
     pmm.Parallel(branches=Scale(), names=Scale(3.0)), pmm.Residual(Scale()),
     pmm.Select(("a", 0)), pmm.Concatenate(axis=-2)],
)  # fmt: skip
def test_combinators_rebuild_from_their_hyperparams(model):
    rebuilt = type(model).from_hyperparams(model.hyperparams)
    assert rebuilt == model and hash(rebuilt) == hash(model)


def test_combinators_are_jittable_with_pytree_data(key):
    model = pmm.Parallel(a=Dense(features=2), b=Scale()) >> pmm.Concatenate()
    params, state = model.init(key, (3,))
    data = jax.random.normal(key, (4, 3))
    eager = model(params, data, False, state, None)
    jitted = jax.jit(model, static_argnums=2)(params, data, False, state, None)
    jax.tree.map(np.testing.assert_allclose, jitted, eager)
    assert eager[0].shape == (4, 5)


@pytest.mark.parametrize("make_key", [jax.random.key, jax.random.PRNGKey], ids=["typed", "raw"])
def test_typed_and_raw_keys_split_alike_and_vmap_over_keys(make_key):
    model = Noise() >> pmm.Parallel(a=Noise(), b=Noise())
    data, rng = jnp.zeros((2, 3)), make_key(5)
    out, _ = model((), data, True, (), rng)
    first, second = jax.random.split(rng)
    np.testing.assert_array_equal(
        out["b"],
        Noise()((), Noise()((), data, True, (), first)[0], True, (), jax.random.split(second)[1])[
            0
        ],
    )
    keys = jax.random.split(rng, 4)
    batched = jax.vmap(lambda k: model((), data, True, (), k)[0])(keys)
    np.testing.assert_array_equal(batched["a"][1], model((), data, True, (), keys[1])[0]["a"])


def test_grad_and_jit_through_combinators_with_pytree_data_and_state(key):
    model = pmm.Parallel(a=pmm.Select("x") >> Dense(features=2) >> Counter(), b=pmm.Select("y"))
    params, state = model.init(key, {"x": (3,), "y": (2,)})
    data = {"x": jax.random.normal(key, (4, 3)), "y": jnp.ones((4, 2))}

    def loss(p, d, s):
        out, new_state = model(p, d, True, s, None)
        return jnp.sum(out["a"] ** 2) + jnp.sum(out["b"]), new_state

    (value, new_state), grads = jax.jit(jax.value_and_grad(loss, argnums=(0, 1), has_aux=True))(
        params, data, state
    )
    np.testing.assert_allclose(value, loss(params, data, state)[0], rtol=1e-6)
    assert jax.tree.structure(grads[0]) == jax.tree.structure(params)
    np.testing.assert_array_equal(grads[1]["y"], jnp.ones((4, 2)))
    assert jax.tree.leaves(new_state) == [1]
