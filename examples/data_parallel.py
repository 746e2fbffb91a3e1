"""Data-parallel training with ``pmm.fit(mesh=...)``, on one host or on several.

With ``mesh=jax.make_mesh((jax.device_count(),), ("data",))``, ``fit`` splits every minibatch
over the mesh's devices and keeps params and optimizer state replicated; XLA adds the sum of the
gradients across devices. The script trains the same MLP twice, on one device and on the mesh,
and prints a table: the losses agree and the params end equal to float tolerance. It writes
``data_parallel.png`` (both loss curves) and saves the mesh-trained model as
``data_parallel.pmm``.

One host, several devices. Without accelerators, ``--devices N`` (default 4) asks for N CPU
devices with ``jax.config.update("jax_num_cpu_devices", N)``, which must run before JAX first
touches a device (the script does it first thing in ``main``). In scripts of your own, setting
``XLA_FLAGS=--xla_force_host_platform_device_count=N`` before ``import jax`` does the same.
These devices share the machine's cores, so expect no speed-up from them: they show that the
program is right, not that it is fast.

    python examples/data_parallel.py                # about 15 s on a laptop CPU
    python examples/data_parallel.py --smoke        # seconds

Several hosts (the recipe; ``tests/test_multihost.py`` runs it with two processes on localhost):

1. Run the same script, with the same data and arguments, in every process, and tell each where
   process 0 listens, how many processes there are and which one it is::

       python examples/data_parallel.py --coordinator 10.0.0.1:8476 --processes 2 --process-id 0
       python examples/data_parallel.py --coordinator 10.0.0.1:8476 --processes 2 --process-id 1

   Each calls ``jax.distributed.initialize(coordinator_address, num_processes, process_id)``
   before anything else touches a device. On a cluster (SLURM, Open MPI, Kubernetes) calling it
   without arguments reads all three from the environment. On CPU the processes exchange
   gradients through gloo, JAX's default CPU collectives: nothing to install.
2. ``jax.devices()`` then lists the devices of every process, and the mesh is built over all of
   them; ``fit`` places data, params and optimizer state with ``jax.make_array_from_callback``,
   which touches only each process's own devices.
3. Every process calls ``fit`` with the same arguments and ends with the same params: each saves
   its copy into its own ``--output`` (give each its own directory on a shared file system).
"""

import argparse
import pathlib
import time
from collections.abc import Sequence

import jax
import numpy as np
import optax

import pmm
from pmm.demo.compare import format_table


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--devices", type=int, default=4, help="CPU devices per process (4)")
    parser.add_argument("--coordinator", help="host:port of process 0, for several processes")
    parser.add_argument("--processes", type=int, default=1, help="number of processes (1)")
    parser.add_argument("--process-id", type=int, default=0, help="this process's index (0)")
    parser.add_argument("--output", type=pathlib.Path, default=pathlib.Path("."))
    return parser.parse_args(argv)


def problem(smoke: bool):
    """The model, its initial params and state, and the data: the same in every process."""
    samples, width = (256, 16) if smoke else (8192, 64)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, 8)).astype(np.float32)
    y = np.stack([np.sin(x[:, :4].sum(1)), np.cos(x[:, 4:].sum(1))], axis=1).astype(np.float32)
    model = pmm.nn.MLP(hidden=(width, width), features=2, activation="tanh")
    params, state = model.init(jax.random.key(0), (8,))
    return model, params, state, x, y


def train(smoke: bool, mesh: jax.sharding.Mesh | None) -> pmm.FitResult:
    """Fit the problem's model, on ``mesh`` (split batches) or on one device (``None``)."""
    model, params, state, x, y = problem(smoke)
    return pmm.fit(
        model, params, state, x, y, optimizer=optax.adam(1e-3), epochs=2 if smoke else 40,
        batch_size=64 if smoke else 256, rng=jax.random.key(1), progress=False, mesh=mesh,
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> str:
    """Train on one device and on the mesh; print and return the table, save the model."""
    args = parse_arguments(argv)
    jax.config.update("jax_num_cpu_devices", args.devices)  # before any device is used
    if args.coordinator is not None:
        jax.distributed.initialize(
            coordinator_address=args.coordinator,
            num_processes=args.processes,
            process_id=args.process_id,
        )
    mesh = jax.make_mesh((jax.device_count(),), ("data",))

    runs, rows = {}, []
    for name, on in (("one device", None), (f"mesh of {jax.device_count()} devices", mesh)):
        start = time.perf_counter()
        runs[name] = result = train(args.smoke, on)
        seconds = time.perf_counter() - start
        difference = max_difference(result.params, runs["one device"].params)
        loss = result.history["loss"][-1]
        rows.append([name, f"{loss:.6f}", f"{difference:.1e}", f"{seconds:.1f} s"])

    table = format_table(
        ["run", "final training loss", "largest params difference from one device", "fit time"],
        rows,
    )
    print(
        f"Process {jax.process_index()} of {jax.process_count()}, {jax.local_device_count()} "
        f"{jax.devices()[0].platform} devices per process:\n"
    )
    print(table)
    args.output.mkdir(parents=True, exist_ok=True)
    model, *_ = problem(args.smoke)
    pmm.save(args.output / "data_parallel.pmm", model, result.params, result.state)
    plot(args.output / "data_parallel.png", runs)
    return table


def max_difference(params, reference) -> float:
    """The largest absolute difference between two params trees of the same structure."""
    pairs = zip(jax.tree.leaves(params), jax.tree.leaves(reference), strict=True)
    return max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in pairs)


def plot(path: pathlib.Path, runs: dict[str, pmm.FitResult]) -> None:
    """The training loss per epoch of each run: the curves lie on top of each other."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4), layout="constrained")
    for (name, result), style in zip(runs.items(), ("-", "--"), strict=True):
        loss = result.history["loss"]
        axis.semilogy(np.arange(1, len(loss) + 1), loss, style, linewidth=2, label=name)
    axis.set(xlabel="epoch", ylabel="training loss (MSE)", title="Data-parallel fit, same result")
    axis.legend()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
