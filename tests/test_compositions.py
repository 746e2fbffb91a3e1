"""Property: for random compositions of layers and combinators, output_shape is the real shape."""

import jax
import jax.numpy as jnp
from hypothesis import given, settings
from hypothesis import strategies as st

import pmm
from pmm.shapes import shape_of

shape_preserving = st.sampled_from(
    [pmm.nn.Tanh(), pmm.nn.ReLU(), pmm.nn.GELU(), pmm.nn.LayerNorm(), pmm.nn.Bias()]
)
preserving = st.recursive(
    shape_preserving,
    lambda children: st.one_of(
        st.tuples(children, children).map(lambda pair: pair[0] >> pair[1]),
        children.map(pmm.Residual),
    ),
    max_leaves=3,
)
leaves = st.one_of(
    shape_preserving, st.integers(1, 4).map(lambda features: pmm.nn.Linear(features=features))
)


def _grow(children):
    pairs = st.tuples(children, children)
    return st.one_of(
        pairs.map(lambda pair: pair[0] >> pair[1]),
        pairs.map(lambda pair: pmm.Parallel(*pair) >> pmm.Concatenate()),
        pairs.map(lambda pair: pmm.Parallel(a=pair[0], b=pair[1]) >> pmm.Select("b")),
        preserving.map(pmm.Residual),
    )


models = st.recursive(leaves, _grow, max_leaves=6)


@settings(max_examples=30, deadline=None)
@given(model=models, width=st.integers(1, 4), flatten_first=st.booleans())
def test_output_shape_matches_the_actual_output(model, width, flatten_first):
    if flatten_first:
        model, input_shape = pmm.nn.Flatten() >> model, (width, 2)
    else:
        input_shape = (width,)
    params, state = model.init(jax.random.key(0), input_shape)
    data = jnp.ones((3, *input_shape))
    output, new_state = model(params, data, False, state, None)
    assert shape_of(output) == model.output_shape(input_shape)
    assert jax.tree.structure(new_state) == jax.tree.structure(state)
