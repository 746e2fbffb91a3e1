"""A graph model: one encoder, two heads and a skip connection, wired by name with ``pmm.Graph``.

Noisy data whose noise grows with ``|x|`` needs two answers per input: the mean and how far to
trust it. The model predicts both, as the mean and the log-variance of a Gaussian, and is trained
by its negative log-likelihood (a custom loss of the dict it returns):

- ``encoder`` (two tanh layers) reads the input, and both heads read the encoder;
- ``skip`` puts the raw input beside the encoder's features (a skip connection), for the mean;
- ``mean`` and ``log_variance`` are the heads; the model returns them as a dict.

That wiring is not a chain, so it is a ``pmm.Graph``: each node names the sources it reads, and
``pmm.summary`` tabulates the result. Trained with ``pmm.fit`` and evaluated with ``pmm.predict``
like any module. The table compares the predicted noise with the true one on fresh test data, and
``graph_model.png`` plots the predicted band against the truth.

    python examples/graph_model.py            # about 20 s on a laptop CPU
    python examples/graph_model.py --smoke    # seconds (the test suite)
"""

import argparse
import pathlib
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

import pmm
from pmm import nn
from pmm.demo.compare import format_table


def mean_curve(x):
    """The noise-free function."""
    return np.sin(2 * x) + 0.3 * x


def noise_scale(x):
    """The true standard deviation of the noise: it grows with ``|x|``."""
    return 0.05 + 0.15 * np.abs(x)


def make_data(seed, samples):
    """Inputs ``(samples, 1)`` uniform in [-3, 3] and noisy targets ``(samples, 1)``."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, (samples, 1)).astype(np.float32)
    y = mean_curve(x) + noise_scale(x) * rng.normal(size=x.shape)
    return x, y.astype(np.float32)


def gaussian_nll(prediction, y):
    """Per-sample negative log-likelihood of ``y`` under ``N(mean, exp(log_variance))``."""
    mean, log_variance = prediction["mean"], prediction["log_variance"]
    return 0.5 * jnp.sum(log_variance + (y - mean) ** 2 * jnp.exp(-log_variance), axis=-1)


def build_model(width):
    """The graph: input -> encoder -> (skip with the input -> mean, log_variance)."""
    encoder = nn.Linear(features=width) >> nn.Tanh() >> nn.Linear(features=width) >> nn.Tanh()
    return pmm.Graph(
        nodes={
            "encoder": (encoder, "input"),
            "skip": (pmm.Concatenate(), ("input", "encoder")),
            "mean": (nn.Linear(features=1), "skip"),
            "log_variance": (nn.Linear(features=1), "encoder"),
        },
        output={"mean": "mean", "log_variance": "log_variance"},
    )


def main(argv: Sequence[str] | None = None) -> str:
    """Train the graph model; print its summary and the table, and return the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--output", type=pathlib.Path, default=pathlib.Path("."))
    args = parser.parse_args(argv)
    samples, width, epochs = (128, 8, 5) if args.smoke else (2000, 32, 300)

    model = build_model(width)
    print(pmm.summary(model, (1,)), end="\n\n")
    x, y = make_data(0, samples)
    validation = make_data(1, samples // 2)  # picks the best epoch
    x_test, y_test = make_data(2, samples)
    params, state = model.init(jax.random.key(0), (1,))
    result = pmm.fit(
        model, params, state, x, y, loss=gaussian_nll, optimizer=optax.adam(3e-3),
        epochs=epochs, batch_size=64, validation=validation, progress=False,
    )  # fmt: skip

    prediction = pmm.predict(model, result.params, result.state, x_test)
    mean, scale = prediction["mean"], np.exp(0.5 * prediction["log_variance"])
    inside = np.abs(y_test - mean) <= 2 * scale
    rows = [
        ["RMSE of the mean against the noise-free function", f"{rmse(mean, mean_curve(x_test))}"],
        ["RMSE of the predicted noise std against the true one",
         f"{rmse(scale, noise_scale(x_test))}"],
        ["test targets inside mean ± 2 std (Gaussian: 95.4%)", f"{inside.mean():.1%}"],
        ["test negative log-likelihood per sample",
         f"{gaussian_nll(prediction, y_test).mean():.3f}"],
    ]  # fmt: skip
    table = format_table(["on fresh test data", "value"], rows)
    print(f"{samples} training samples, {epochs} epochs (best epoch {result.best_epoch})\n")
    print(table)
    args.output.mkdir(parents=True, exist_ok=True)
    plot(args.output / "graph_model.png", model, result, x, y)
    return table


def rmse(prediction, truth):
    """The root-mean-square difference, formatted."""
    return f"{np.sqrt(np.mean((np.asarray(prediction) - truth) ** 2)):.4f}"


def plot(path, model, result, x, y):
    """The data, the true mean and noise band, and the model's mean and band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(-3, 3, 301, dtype=np.float32)[:, None]
    prediction = pmm.predict(model, result.params, result.state, grid)
    mean = np.asarray(prediction["mean"])[:, 0]
    scale = np.exp(0.5 * np.asarray(prediction["log_variance"]))[:, 0]
    truth, true_scale, g = mean_curve(grid[:, 0]), noise_scale(grid[:, 0]), grid[:, 0]
    figure, axis = plt.subplots(figsize=(7, 4.5), layout="constrained")
    axis.plot(x[:, 0], y[:, 0], ".", color="grey", alpha=0.3, markersize=3, label="training data")
    axis.fill_between(g, mean - 2 * scale, mean + 2 * scale, color="tab:orange", alpha=0.35,
                      label="predicted mean ± 2 std")  # fmt: skip
    axis.plot(g, mean, color="tab:orange", label="predicted mean")
    axis.plot(g, truth, color="black", linewidth=2, label="true mean")
    for sign in (-1, 1):
        axis.plot(g, truth + sign * 2 * true_scale, ":", color="black",
                  label="true mean ± 2 std" if sign > 0 else None)  # fmt: skip
    axis.set(xlabel="x", ylabel="y", title="Mean and noise from one graph model")
    axis.legend(fontsize=8)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
