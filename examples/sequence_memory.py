"""Recall the first token of a sequence after a delay: a task that needs memory.

Each sequence starts with one of ``CLASSES`` class tokens, followed by ``length - 1`` random
distractor tokens; the model reads the whole sequence and must name the first token at the end.
A model that sees only the last token is at chance (1 / CLASSES); a GRU or an LSTM must carry
the first token through every step in its state; attention can look back at it directly.

Run ``python examples/sequence_memory.py`` (about a minute on a laptop CPU) or with ``--smoke``
(seconds). It prints a table of test accuracies and writes ``sequence_memory.png``, the
validation loss of each model per epoch.
"""

import argparse
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import pmm
from pmm import nn

CLASSES, DISTRACTORS = 4, 8
IDS = CLASSES + DISTRACTORS


def last_step(x):
    """The last time step of ``(batch, time, features)``: ``(batch, features)``."""
    return x[:, -1]


pmm.register_function(last_step, "examples.last_step")


def make_task(seed, samples, length):
    """Integer token sequences ``(samples, length)`` and their labels, the first token."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, samples)
    tokens = rng.integers(CLASSES, IDS, (samples, length))
    tokens[:, 0] = labels
    return jnp.asarray(tokens, jnp.int32), jnp.asarray(labels, jnp.int32)


def models(width):
    """The contenders, each from token ids to ``CLASSES`` logits."""
    embed = nn.Embedding(num_embeddings=IDS, features=width)
    last, head = nn.Function("examples.last_step"), nn.Linear(features=CLASSES)
    return {
        "last token only": embed >> last >> head,
        "GRU": embed >> nn.Scan(nn.GRUCell(features=width), return_sequences=False) >> head,
        "LSTM": embed >> nn.Scan(nn.LSTMCell(features=width), return_sequences=False) >> head,
        "attention": embed >> nn.MultiHeadAttention(num_heads=2) >> last >> head,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: runs in seconds")
    parser.add_argument("--output", default=".", help="directory for sequence_memory.png")
    arguments = parser.parse_args(argv)
    samples, length, width, epochs = (256, 6, 8, 2) if arguments.smoke else (3000, 30, 32, 20)

    x_train, y_train = make_task(0, samples, length)
    x_test, y_test = make_task(1, samples // 2, length)
    ids = jax.ShapeDtypeStruct((length,), jnp.int32)
    rows, curves = [], {}
    for name, model in models(width).items():
        params, state = model.init(jax.random.key(0), ids)
        start = time.perf_counter()
        result = pmm.fit(
            model,
            params,
            state,
            x_train,
            y_train,
            loss="cross_entropy",
            optimizer=optax.adam(3e-3),
            epochs=epochs,
            batch_size=64,
            validation=(x_test, y_test),
            progress=False,
        )
        seconds = time.perf_counter() - start
        logits = pmm.predict(model, result.params, result.state, x_test)
        accuracy = float(jnp.mean(jnp.argmax(logits, axis=-1) == y_test))
        size = sum(leaf.size for leaf in jax.tree.leaves(result.params))
        rows.append((name, size, accuracy, seconds))
        curves[name] = result.history["val_loss"]

    print(f"Recall the first of {length} tokens ({CLASSES} classes, chance {1 / CLASSES:.2f})")
    print("| model | params | test accuracy | fit time |\n| --- | --- | --- | --- |")
    for name, size, accuracy, seconds in rows:
        print(f"| {name} | {size} | {accuracy:.3f} | {seconds:.1f} s |")
    path = pathlib.Path(arguments.output) / "sequence_memory.png"
    plot(curves, path, length)
    print(f"wrote {path}")


def plot(curves, path, length):
    """Validation loss per epoch of each model, with chance level for reference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for name, losses in curves.items():
        axes.plot(np.arange(1, len(losses) + 1), losses, marker="o", label=name)
    axes.axhline(np.log(CLASSES), color="grey", linestyle="--", label="chance")
    axes.set(xlabel="epoch", ylabel="validation cross entropy")
    axes.set_title(f"Recall the first of {length} tokens")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


if __name__ == "__main__":
    main()
