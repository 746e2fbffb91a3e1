"""The progress bar: epoch, loss, val loss and ETA on a terminal; silent otherwise."""

import io

import jax.numpy as jnp
import optax

import pmm
from tests.modules import Scale

SGD = optax.sgd(1e-2)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def train(progress):
    x = jnp.ones((8, 2))
    params, state = Scale().init(None, (2,))
    pmm.fit(
        Scale(),
        params,
        state,
        x,
        3 * x,
        epochs=3,
        batch_size=4,
        optimizer=SGD,
        validation=(x, 3 * x),
        progress=progress,
    )


def test_a_terminal_shows_epochs_losses_and_time_left(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    train(progress=True)
    shown = terminal.getvalue()
    assert "3/3" in shown and "loss=" in shown and "val_loss=" in shown and "epoch" in shown


def test_progress_false_is_silent_on_a_terminal(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    train(progress=False)
    assert terminal.getvalue() == ""


def test_a_non_terminal_gets_no_bar(capsys):
    train(progress=True)
    assert capsys.readouterr() == ("", "")
