"""The demo: its physics against the exact solution, and a small end-to-end run."""

import numpy as np
import pytest

from pmm.demo.__main__ import main
from pmm.demo.ising import ground_state_energy, ising_terms


def free_fermion_energy(field: float, sites: int) -> float:
    """E0/N of the periodic ring from its Jordan-Wigner solution (even-parity sector)."""
    momenta = np.pi * (2 * np.arange(sites) + 1) / sites
    return -np.sum(np.sqrt(1 + field**2 - 2 * field * np.cos(momenta))) / sites


@pytest.mark.parametrize("field", [0.0, 0.3, 1.0, -1.7])
def test_exact_diagonalisation_matches_the_free_fermion_solution(field):
    energy = ground_state_energy(np.array([field]), sites=6)[0]
    assert energy == pytest.approx(free_fermion_energy(field, 6), abs=1e-10)


def test_the_hamiltonian_is_affine_in_the_field_and_symmetric():
    coupling, field = ising_terms(4)
    assert coupling.shape == field.shape == (16, 16)
    np.testing.assert_array_equal(coupling, coupling.T)
    np.testing.assert_array_equal(field, field.T)
    fields = np.array([0.0, 0.5, 1.5])
    np.testing.assert_allclose(ground_state_energy(fields, 4), ground_state_energy(-fields, 4))
    assert ground_state_energy(np.array([0.0]), 4)[0] == pytest.approx(-1.0)


@pytest.mark.slow
def test_the_demo_runs_end_to_end(tmp_path, capsys):
    table = main(
        ["--sites", "4", "--epochs", "300", "--restarts", "1", "--output", str(tmp_path),
         "--no-progress"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "| AE-PMM" in table and "| MLP" in table and table in out
    assert "identical predictions" in out
    assert (tmp_path / "aepmm.pmm").exists()
    assert (tmp_path / "ising_extrapolation.png").stat().st_size > 10_000


def test_the_demo_explains_its_options(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "--matrix-size" in capsys.readouterr().out
