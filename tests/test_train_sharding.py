"""Data parallelism: a fit over a 4-device mesh matches the single-device fit."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import pytest

import pmm
from tests.modules import Scale

SCRIPT = textwrap.dedent(
    """
    import json
    import jax, jax.numpy as jnp, numpy as np, optax, pmm
    from tests.modules import Dense

    specs = []

    class Probe(pmm.Module):  # records how its input batch is split, at trace time
        def init(self, rng, input_shape):
            return (), ()

        def apply(self, params, data, training, state, rng):
            specs.append(str(jax.typeof(data).sharding.spec))
            return data, state

    model = Probe() >> Dense(features=2)
    params, state = model.init(jax.random.key(0), (3,))
    x = jax.random.normal(jax.random.key(1), (30, 3))
    y = jnp.sin(x[:, :2])
    options = dict(epochs=4, batch_size=8, optimizer=optax.adam(1e-2), progress=False,
                   validation=(x[:10], y[:10]))
    single = pmm.fit(model, params, state, x, y, **options)
    results = {}
    for kind in (jax.sharding.AxisType.Explicit, jax.sharding.AxisType.Auto):
        mesh = jax.make_mesh((4,), ("data",), axis_types=(kind,))
        results[kind.name] = pmm.fit(model, params, state, x, y, mesh=mesh, **options)
    print(json.dumps({"devices": jax.device_count(), "specs": sorted(set(specs))} | {kind: {
        "param_difference": float(jnp.max(jnp.abs(sharded.params[1]["w"] - single.params[1]["w"]))),
        "loss_difference": float(np.max(np.abs(sharded.history["loss"] - single.history["loss"]))),
        "val_difference": float(np.max(np.abs(
            sharded.history["val_loss"] - single.history["val_loss"]))),
        "replicated": sharded.params[1]["w"].sharding.is_fully_replicated,
    } for kind, sharded in results.items()}))
    """
)


def test_a_four_device_fit_matches_the_single_device_fit():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    environment = os.environ | {
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": root,
    }
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        env=environment,
        cwd=root,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report.pop("devices") == 4
    assert report.pop("specs") == ["P('data', None)", "P(None, None)"]  # split over 4 devices
    assert report == {
        kind: {
            "param_difference": pytest.approx(0, abs=1e-5),
            "loss_difference": pytest.approx(0, abs=1e-5),
            "val_difference": pytest.approx(0, abs=1e-5),
            "replicated": True,
        }
        for kind in ("Explicit", "Auto")
    }


def test_a_mesh_without_a_data_axis_is_refused():
    devices = jax.make_mesh((1,), ("data",)).devices.reshape(1, 1)
    with pytest.raises(ValueError, match=r"mesh has axes.*none is named 'data'"):
        pmm.fit(
            Scale(),
            *Scale().init(None, (1,)),
            jax.numpy.ones((4, 1)),
            epochs=1,
            progress=False,
            mesh=jax.sharding.Mesh(devices, ("a", "b")),
        )
