"""pmm.Graph (issue 13 section 1): modules wired by name, a module in every sense."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm import nn
from tests.modules import Counter, Noise

#: The issue's example: a shared encoder read by two branches, joined, then a head.
ISSUE_GRAPH = pmm.Graph(
    nodes={
        "enc": (nn.Linear(features=8), "input"),
        "a": (nn.Tanh(), "enc"),
        "b": (nn.ReLU(), "enc"),
        "cat": (pmm.Concatenate(), ("a", "b")),
        "out": (nn.Linear(features=1), "cat"),
    },
    output="out",
)


def by_hand(params, x):
    """The issue's graph written out with jnp."""
    enc = x @ params["enc"]["weight"] + params["enc"]["bias"]
    cat = jnp.concatenate([jnp.tanh(enc), jnp.maximum(enc, 0.0)], axis=-1)
    return cat @ params["out"]["weight"] + params["out"]["bias"]


class CountsCalls(pmm.Parameterless):
    """Passes data through and appends to ``CALLS`` on every (eager) apply."""

    def apply(self, params, data, training, state, rng):
        CALLS.append(self)
        return data, state


CALLS: list = []


def test_the_graph_equals_the_model_written_by_hand(key):
    params, state = ISSUE_GRAPH.init(key, (3,))
    x = jax.random.normal(key, (5, 3))
    np.testing.assert_allclose(ISSUE_GRAPH(params, x, False, state)[0], by_hand(params, x))


def test_the_gradients_equal_those_of_the_model_written_by_hand(key):
    params, state = ISSUE_GRAPH.init(key, (3,))
    x = jax.random.normal(key, (5, 3))
    grads = jax.grad(lambda p: ISSUE_GRAPH(p, x, False, state)[0].sum())(params)
    expected = jax.grad(lambda p: by_hand(p, x).sum())(params)
    jax.tree.map(np.testing.assert_allclose, grads, expected)


def test_the_graph_equals_the_same_model_built_from_combinators(key):
    params, _ = ISSUE_GRAPH.init(key, (3,))
    chain = (
        nn.Linear(features=8)
        >> pmm.Parallel(nn.Tanh(), nn.ReLU())
        >> pmm.Concatenate()
        >> nn.Linear(features=1)
    )
    chain_params = (params["enc"], ((), ()), (), params["out"])
    x = jax.random.normal(key, (4, 3))
    np.testing.assert_array_equal(ISSUE_GRAPH(params, x)[0], chain(chain_params, x)[0])


def test_params_and_state_are_dicts_keyed_by_node_name(key):
    model = pmm.Graph(
        nodes={"count": (Counter(), "input"), "lin": (nn.Linear(features=2), "count")},
        output="lin",
    )
    params, state = model.init(key, (3,))
    assert set(params) == set(state) == {"count", "lin"}
    assert params["count"] == () and set(params["lin"]) == {"bias", "weight"}
    _, state = model(params, jnp.ones((2, 3)), True, state)
    assert int(state["count"]["calls"]) == 1


def test_a_node_read_by_several_nodes_is_computed_once(key):
    model = pmm.Graph(
        nodes={
            "shared": (CountsCalls(), "input"),
            "a": (nn.Tanh(), "shared"),
            "b": (nn.ReLU(), "shared"),
        },
        output=("a", "b", "shared"),
    )
    params, state = model.init(key, (3,))
    CALLS.clear()
    model(params, jnp.ones((2, 3)), False, state)
    assert len(CALLS) == 1


def test_nodes_run_after_the_nodes_they_read_whatever_the_order_written():
    model = pmm.Graph(
        nodes={
            "out": (nn.Linear(features=1), "mid"),
            "mid": (nn.Tanh(), "first"),
            "first": (nn.Linear(features=2), "input"),
        },
        output="out",
    )
    assert model.run_order == ("first", "mid", "out")
    assert list(model.wiring) == ["first", "mid", "out"]


def test_node_i_in_name_order_gets_key_i_of_the_split(key):
    model = pmm.Graph(
        nodes={"b": (nn.Linear(features=2), "input"), "a": (nn.Linear(features=2), "b")},
        output="a",
    )
    params, _ = model.init(key, (3,))
    keys = jax.random.split(key, 2)
    np.testing.assert_array_equal(
        params["a"]["weight"], nn.Linear(features=2).init(keys[0], (2,))[0]["weight"]
    )
    np.testing.assert_array_equal(
        params["b"]["weight"], nn.Linear(features=2).init(keys[1], (3,))[0]["weight"]
    )


def test_each_stochastic_node_gets_its_own_key(key):
    model = pmm.Graph(nodes={"p": (Noise(), "input"), "q": (Noise(), "input")}, output=("p", "q"))
    (p, q), _ = model((), jnp.zeros((4, 3)), True, {"p": (), "q": ()}, key)
    keys = jax.random.split(key, 2)
    np.testing.assert_array_equal(p, jax.random.normal(keys[0], (4, 3)))
    np.testing.assert_array_equal(q, jax.random.normal(keys[1], (4, 3)))


def test_a_path_source_reads_an_entry_of_a_tree_output(key):
    model = pmm.Graph(
        nodes={
            "pair": (pmm.Parallel(lin=nn.Linear(features=2), act=nn.Tanh()), "input/x"),
            "head": (nn.Linear(features=1), "pair/lin"),
        },
        output={"head": "head", "act": "pair/act", "y": "input/y/1"},
    )
    data = {"x": jnp.ones((2, 3)), "y": (jnp.zeros((2, 4)), jnp.full((2, 5), 7.0))}
    shape = {"x": (3,), "y": ((4,), (5,))}
    params, state = model.init(key, shape)
    output, _ = model(params, data, False, state)
    assert model.output_shape(shape) == {"act": (3,), "head": (1,), "y": (5,)}
    np.testing.assert_array_equal(output["act"], jnp.tanh(data["x"]))
    np.testing.assert_array_equal(output["y"], data["y"][1])


def test_tuple_list_and_dict_inputs_reach_the_node_as_written(key):
    model = pmm.Graph(
        nodes={
            "a": (nn.Tanh(), "input"),
            "dict": (pmm.Select("k"), {"k": "a", "j": "input"}),
            "list": (pmm.Select(1), ["input", "a"]),
        },
        output=["dict", ("list",)],
    )
    x = jnp.ones((2, 3))
    output, _ = model((), x, False, {"a": (), "dict": (), "list": ()})
    assert isinstance(output, list) and isinstance(output[1], tuple)
    np.testing.assert_array_equal(output[0], jnp.tanh(x))
    np.testing.assert_array_equal(output[1][0], jnp.tanh(x))


def test_the_output_may_name_the_input(key):
    model = pmm.Graph(nodes={"a": (nn.Tanh(), "input")}, output=("input", "a"))
    x = jnp.ones((2, 3))
    (same, _), _ = model(*model.init(key, (3,))[:1], x)
    assert same is x


@pytest.mark.parametrize(
    ("nodes", "output", "message"),
    [
        ({"a": (nn.Tanh(), "b"), "b": (nn.Tanh(), "a")}, "a", "cycle .*'a' -> 'b' -> 'a'"),
        ({"a": (nn.Tanh(), ("input", "a"))}, "a", "cycle .*'a' -> 'a'"),
        ({"a": (nn.Tanh(), "enc")}, "a", "node 'a' reads 'enc', but there is no node 'enc'"),
        ({"a": (nn.Tanh(), "input")}, "z/0", "'output' of Graph reads 'z/0'.*no node 'z'"),
        ({"a": (nn.Tanh(), "input"), "b": (nn.Tanh(), "a")}, "a", r"nodes \['b'\] are not used"),
        ({"input": (nn.Tanh(), "input")}, "input", "name 'input' is not allowed"),
        ({"a/b": (nn.Tanh(), "input")}, "a/b", "name 'a/b' is not allowed"),
        ({"": (nn.Tanh(), "input")}, "input", "name '' is not allowed"),
        ({"a": nn.Tanh()}, "a", "node 'a' is Tanh\\(\\); give the pair \\(module, inputs\\)"),
        ({"a": (nn.Tanh(), "a//0")}, "a", "node 'a' reads 'a//0', which is not a source"),
        ({"a": (nn.Tanh(), ())}, "a", "inputs of Graph node 'a' holds an empty container"),
        ({"a": (nn.Tanh(), {1: "input"})}, "a", "dict key 1; give str keys"),
        ({}, "input", "field 'nodes' of Graph is empty"),
    ],
)
def test_construction_refuses_bad_wiring_naming_the_node(nodes, output, message):
    with pytest.raises(ValueError, match=message):
        pmm.Graph(nodes=nodes, output=output)


def test_errors_at_init_name_the_node(key):
    model = pmm.Graph(
        nodes={"a": (nn.Tanh(), "input"), "cat": (pmm.Concatenate(), ("a", "input/0"))},
        output="cat",
    )
    with pytest.raises(pmm.ShapeError, match=r"^Graph\['cat'\] > Concatenate\(\): .*is one array"):
        model.init(key, (3,))


def test_errors_at_run_time_name_the_node(key):
    params, state = ISSUE_GRAPH.init(key, (3,))
    with pytest.raises(TypeError) as raised:
        ISSUE_GRAPH(params, jnp.ones((2, 4)), False, state)
    assert "in pmm module Graph['enc'] > Linear(features=8)" in raised.value.__notes__
    with pmm.shape_checks(), pytest.raises(pmm.ShapeError, match=r"^Graph\['enc'\] > Linear"):
        ISSUE_GRAPH(params, jnp.ones((2, 4)), False, state)


def test_shape_checks_pass_every_node(key):
    params, state = ISSUE_GRAPH.init(key, (3,))
    with pmm.shape_checks():
        assert ISSUE_GRAPH(params, jnp.ones((2, 3)), False, state)[0].shape == (2, 1)
    checked = pmm.checked(ISSUE_GRAPH)
    assert checked(params, jnp.ones((2, 3)), False, state)[0].shape == (2, 1)


def test_graphs_equal_and_hash_alike_whatever_the_order_nodes_are_written():
    reordered = pmm.Graph(nodes=dict(reversed(list(ISSUE_GRAPH.wiring.items()))), output="out")
    assert reordered == ISSUE_GRAPH and hash(reordered) == hash(ISSUE_GRAPH)
    other = dataclasses.replace(ISSUE_GRAPH, nodes={**ISSUE_GRAPH.wiring, "a": (nn.GELU(), "enc")})
    assert other != ISSUE_GRAPH


def test_repr_reads_back_and_replace_changes_the_output():
    namespace = {**vars(nn), **vars(pmm)}
    assert eval(repr(ISSUE_GRAPH), namespace) == ISSUE_GRAPH
    changed = dataclasses.replace(ISSUE_GRAPH, output=("out", "enc"))
    assert changed.output_shape((3,)) == ((1,), (8,))
    rewired = dataclasses.replace(changed, nodes={"enc": (nn.Tanh(), "input")}, output="enc")
    assert rewired.run_order == ("enc",)


def test_save_and_load_round_trip(key, tmp_path):
    model = pmm.Graph(
        nodes={
            "pair": (pmm.Parallel(nn.Tanh(), nn.Linear(features=2)), "input"),
            "join": (pmm.Concatenate(), {"b": ["pair/1", "input"], "a": "pair/0"}),
        },
        output=["join", {"x": "pair/1"}],
    )
    params, state = model.init(key, (3,))
    pmm.save(tmp_path / "graph.pmm", model, params, state, input_shape=(3,))
    loaded, loaded_params, loaded_state = pmm.load(tmp_path / "graph.pmm")
    assert loaded == model
    x = jax.random.normal(key, (2, 3))
    np.testing.assert_array_equal(
        loaded(loaded_params, x, False, loaded_state)[0][0], model(params, x, False, state)[0][0]
    )


def test_jit_and_vmap_over_stacked_params(key):
    keys = jax.random.split(key, 3)
    stacked = jax.vmap(lambda k: ISSUE_GRAPH.init(k, (3,))[0])(keys)
    state = ISSUE_GRAPH.init(key, (3,))[1]
    x = jax.random.normal(key, (4, 3))
    ensemble = jax.jit(jax.vmap(ISSUE_GRAPH, in_axes=(0, None, None, None, None)), static_argnums=2)
    outputs, _ = ensemble(stacked, x, False, state, None)
    for member in range(3):
        one = jax.tree.map(lambda leaf, i=member: leaf[i], stacked)
        np.testing.assert_allclose(outputs[member], by_hand(one, x), rtol=1e-5, atol=1e-6)


def test_typed_shapes_flow_through_to_the_output():
    model = pmm.Graph(
        nodes={"lin": (nn.Linear(features=2), "input/x")}, output=("lin", "input/ids")
    )
    shape = {
        "ids": jax.ShapeDtypeStruct((4,), jnp.int32),
        "x": jax.ShapeDtypeStruct((3,), jnp.float32),
    }
    lin, ids = model.output_shape(shape)
    assert (lin.shape, lin.dtype) == ((2,), jnp.float32)
    assert (ids.shape, ids.dtype) == ((4,), jnp.int32)


def test_graphs_compose_with_shift_and_nest_in_combinators_and_graphs(key):
    inner = pmm.Graph(nodes={"act": (nn.Tanh(), "input")}, output="act")
    outer = pmm.Graph(
        nodes={"enc": (nn.Linear(features=2) >> inner, "input"), "g": (inner, "enc")},
        output="g",
    )
    model = outer >> nn.Linear(features=1)
    params, state = model.init(key, (3,))
    assert model(params, jnp.ones((4, 3)), False, state)[0].shape == (4, 1)
    with pytest.raises(pmm.ShapeError, match=r"^Sequential\[0\] > Graph\['enc'\] > Sequential"):
        model.init(key, ((3,), (3,)))


def test_parameter_paths_and_freezing_see_node_names(key):
    paths = jax.tree.leaves(
        pmm.parameter_paths(ISSUE_GRAPH, ISSUE_GRAPH.init(key, (3,))[0]),
        is_leaf=lambda node: isinstance(node, pmm.ParamPath),
    )
    assert str(paths[0]) == "Graph['enc'] > Linear(features=8)['bias']"
    assert paths[0].keys == ("enc", "bias")

    params, state = ISSUE_GRAPH.init(key, (3,))
    x = jax.random.normal(key, (16, 3))
    result = pmm.fit(
        ISSUE_GRAPH,
        params,
        state,
        x,
        x[:, :1],
        epochs=2,
        batch_size=8,
        rng=key,
        progress=False,
        trainable=lambda path: path.keys[0] != "enc",
    )
    jax.tree.map(np.testing.assert_array_equal, result.params["enc"], params["enc"])
    assert not np.array_equal(result.params["out"]["weight"], params["out"]["weight"])
