"""Classifying scikit-learn's 8x8 digits: an AO-PMM against an MLP and a small CNN of its size.

The AO-PMM (``pmm.AOPMM``, Cook et al., Nat. Commun. 16, 5929 (2025)) reads the 64 pixels as
the coefficients of a Hermitian matrix ``M(x) = M_0 + sum_i x_i M_i`` and scores each class by
transition probabilities between its leading eigenvectors under trainable observables. The
baselines are an MLP with one hidden layer and a small CNN (two 3x3 convolutions), sized to
about as many parameters (``pmm.count_params``). All three are trained alike with ``pmm.fit``
(softmax cross entropy, Adam) on the same 75% of the 1,797 images and tested on the rest.

How this compares with the paper: Cook et al. report 97.38% test accuracy on MNIST for a PMM
with 4,990 parameters. The AO-PMM here has 4,810 and reaches 96.2%, 97.1% and 96.9% with
``--seed`` 0, 1 and 2: close to that figure, but a point below the MLP of its size and about two
below the CNN on the same data (97.4% and 98.4% on average over those seeds). The data sets
differ, so the paper's accuracy and these are not a benchmark of one another: MNIST has 60,000
training images of 28x28 pixels, digits has 1,348 training images of 8x8 pixels, and its 449
test images give each accuracy a standard error of about 0.8 percentage points (the table's last
column). What the table does show is how the AO-PMM compares with conventional networks of the
same size on the same data, under the same training.

    python examples/digits_classification.py            # about a minute on a laptop CPU
    python examples/digits_classification.py --smoke    # seconds (the test suite)

Needs scikit-learn (the digits ship with it: no download) and matplotlib:
``pip install -e .[examples]``.
"""

import argparse
import pathlib
from collections.abc import Sequence

import jax
import numpy as np
import optax

import pmm
from pmm import nn
from pmm.demo.compare import format_table


def load_digits(seed: int, test_fraction: float = 0.25) -> tuple[np.ndarray, ...]:
    """Train and test images ``(n, 8, 8, 1)`` in [0, 1] and their integer labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., None]
    order = np.random.default_rng(seed).permutation(len(images))
    test, train = np.split(order, [int(test_fraction * len(images))])
    return images[train], digits.target[train], images[test], digits.target[test]


def models(smoke: bool) -> dict[str, pmm.Module]:
    """The contenders, each from ``(8, 8, 1)`` images to 10 class scores (logits)."""
    matrix_size, hidden, channels = (3, 4, (2, 4)) if smoke else (8, 64, (16, 24))
    contenders = {
        "AO-PMM": nn.Flatten()
        >> pmm.AOPMM(matrix_size=matrix_size, num_eig=2, output_size=10, init_magnitude=0.1),
        "MLP": nn.Flatten() >> nn.MLP(hidden=(hidden,), features=10),
        "CNN": nn.Conv(features=channels[0], kernel_size=(3, 3))
        >> nn.ReLU()
        >> nn.MaxPool(2)
        >> nn.Conv(features=channels[1], kernel_size=(3, 3))
        >> nn.ReLU()
        >> nn.MaxPool(2)
        >> nn.Flatten()
        >> nn.Linear(features=10),
    }
    return contenders


def main(argv: Sequence[str] | None = None) -> str:
    """Train every contender; print and return the table of parameters and accuracies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--epochs", type=int, default=100, help="training epochs (100)")
    parser.add_argument("--seed", type=int, default=0, help="split and init seed (0)")
    parser.add_argument("--output", type=pathlib.Path, default=pathlib.Path("."))
    args = parser.parse_args(argv)
    epochs = 3 if args.smoke else args.epochs
    x_train, y_train, x_test, y_test = load_digits(args.seed)
    if args.smoke:
        x_train, y_train = x_train[:128], y_train[:128]

    steps = epochs * -(-len(x_train) // 64)  # batches of 64, the last one partial
    optimizer = optax.adam(optax.cosine_decay_schedule(3e-3, steps))  # no spikes at the end
    rows, curves, accuracies = [], {}, {}
    for name, model in models(args.smoke).items():
        init_key, fit_key = jax.random.split(jax.random.key(args.seed))
        params, state = model.init(init_key, x_train.shape[1:])
        result = pmm.fit(
            model, params, state, x_train, y_train, loss="cross_entropy",
            optimizer=optimizer, epochs=epochs, batch_size=64, rng=fit_key,
            validation=(x_test, y_test), restore_best=False, progress=False,
        )  # fmt: skip
        scores = pmm.predict(model, result.params, result.state, x_test)
        accuracy = float(np.mean(np.argmax(scores, axis=-1) == y_test))
        error = np.sqrt(accuracy * (1 - accuracy) / len(y_test))
        size = pmm.count_params(result.params)
        accuracies[name] = accuracy
        rows.append([name, f"{size:,}", f"{accuracy:.2%}", f"{error:.2%}"])
        curves[name] = result.history

    table = format_table(["model", "params", "test accuracy", "standard error"], rows)
    print(f"{len(x_train)} training and {len(x_test)} test digits (8x8), {epochs} epochs\n")
    print(table)
    print(
        f"\nThe AO-PMM: {accuracies['AO-PMM']:.2%} on these 8x8 digits. Cook et al. report 97.38% "
        "on MNIST\n(28x28 pixels, 60,000 training images) with a 4,990-parameter PMM: another "
        "data set, so\nnot a like-for-like comparison."
    )
    args.output.mkdir(parents=True, exist_ok=True)
    plot(args.output / "digits_classification.png", curves)
    return table


def plot(path: pathlib.Path, curves: dict[str, dict[str, np.ndarray]]) -> None:
    """Training and test cross entropy of every model against the epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4), layout="constrained")
    for (name, history), color in zip(curves.items(), ("C0", "C1", "C2"), strict=False):
        epochs = np.arange(1, len(history["loss"]) + 1)
        axis.semilogy(epochs, history["loss"], color=color, label=f"{name}, training")
        axis.semilogy(epochs, history["val_loss"], "--", color=color, label=f"{name}, test")
    axis.set(xlabel="epoch", ylabel="cross entropy", title="8x8 digits, models of ~4,800 params")
    axis.legend(fontsize=8)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
