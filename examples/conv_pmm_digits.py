"""A convolutional PMM against a CNN of the same size on scikit-learn's 8x8 digits.

The model of Cook et al. (Nat. Commun. 16, 5929 (2025)) for images: a small convolutional
feature extractor whose features set the coefficients of a Hermitian matrix, with an AO-PMM head
reading class scores from its eigenvectors. The baseline swaps that head for a dense one (an MLP)
with about as many parameters. Both are trained with ``pmm.fit`` on the same split (softmax cross
entropy, Adam); the script prints a table of parameter counts and test accuracies and writes the
training curves to ``conv_pmm_digits.png``.

    python examples/conv_pmm_digits.py            # about a minute on a laptop CPU
    python examples/conv_pmm_digits.py --smoke    # a few seconds, tiny sizes (the test suite)

Needs scikit-learn (for the bundled digits, no download) and matplotlib: ``pip install
-e .[examples]``.
"""

import argparse
import pathlib
from collections.abc import Sequence

import jax
import numpy as np
import optax

import pmm
from pmm import nn


def load_digits(test_fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    """Train and test images ``(n, 8, 8, 1)`` in [0, 1] and their integer labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., None]
    order = np.random.default_rng(seed).permutation(len(images))
    test = order[: int(test_fraction * len(images))]
    train = order[len(test) :]
    return images[train], digits.target[train], images[test], digits.target[test]


def features(width: int) -> pmm.Module:
    """The shared extractor: two 3x3 convolutions, 8x8x1 images to ``width`` features."""
    return (
        nn.Conv(width // 2, (3, 3))
        >> nn.ReLU()
        >> nn.MaxPool(2)
        >> nn.Conv(width, (3, 3))
        >> nn.ReLU()
        >> nn.GlobalAvgPool()
    )


def models(width: int, matrix_size: int, hidden: int) -> dict[str, pmm.Module]:
    """The convolutional PMM and the CNN with a dense head, both ending in 10 class scores."""
    head = pmm.AOPMM(matrix_size=matrix_size, num_eig=2, output_size=10, init_magnitude=0.1)
    return {
        "Conv + AO-PMM head": features(width) >> nn.LayerNorm() >> head,
        "Conv + dense head": features(width)
        >> nn.LayerNorm()
        >> nn.MLP(hidden=(hidden,), features=10),
    }


def parameter_count(params: pmm.typing.Params) -> int:
    """Real numbers in ``params`` (a complex entry counts as two)."""
    return sum(leaf.size * (2 if np.iscomplexobj(leaf) else 1) for leaf in jax.tree.leaves(params))


def plot(path: pathlib.Path, histories: dict[str, np.ndarray]) -> None:
    """Training loss of each model against the epoch, on a log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4), layout="constrained")
    for name, loss in histories.items():
        axis.semilogy(np.arange(1, len(loss) + 1), loss, label=name)
    axis.set_xlabel("epoch")
    axis.set_ylabel("training cross entropy")
    axis.set_title("8x8 digits: convolutional PMM vs CNN")
    axis.legend()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: Sequence[str] | None = None) -> str:
    """Train both models; print and return the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--epochs", type=int, default=150, help="training epochs (150)")
    parser.add_argument("--seed", type=int, default=0, help="split and init seed (0)")
    parser.add_argument("--output", type=pathlib.Path, default=pathlib.Path("."))
    args = parser.parse_args(argv)
    epochs, width, matrix_size, hidden = (3, 4, 3, 4) if args.smoke else (args.epochs, 16, 6, 36)
    x_train, y_train, x_test, y_test = load_digits(test_fraction=0.25, seed=args.seed)
    if args.smoke:
        x_train, y_train = x_train[:64], y_train[:64]

    rows, histories = [], {}
    for index, (name, model) in enumerate(models(width, matrix_size, hidden).items()):
        init_key, fit_key = jax.random.split(jax.random.key(args.seed + index))
        params, state = model.init(init_key, x_train.shape[1:])
        result = pmm.fit(
            model, params, state, x_train, y_train, loss="cross_entropy",
            optimizer=optax.adam(3e-3), epochs=epochs, batch_size=64, rng=fit_key,
            progress=False,
        )  # fmt: skip
        scores = pmm.predict(model, result.params, result.state, x_test)
        accuracy = float(np.mean(np.argmax(scores, axis=-1) == y_test))
        rows.append(f"| {name} | {parameter_count(result.params)} | {accuracy:.1%} |")
        histories[name] = np.asarray(result.history["loss"])

    table = "\n".join(["| model | parameters | test accuracy |", "| --- | --- | --- |", *rows])
    print(f"{len(x_train)} training and {len(x_test)} test digits, {epochs} epochs\n{table}")
    args.output.mkdir(parents=True, exist_ok=True)
    plot(args.output / "conv_pmm_digits.png", histories)
    return table


if __name__ == "__main__":
    main()
