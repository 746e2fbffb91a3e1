"""Benchmarks of pmm against raw JAX + optax, Flax NNX, Equinox and numpy.

Run ``python -m benchmarks`` (or ``nox -s bench``); ``--quick`` for a smoke run, ``--only CASE``
for one suite. Each ``bench_*`` module exposes ``run(quick=False)`` returning
``benchmarks.timing.Row``s measured with ``benchmarks.timing.interleaved``; ``__main__`` gathers
them into ``results.md`` (``benchmarks.report``).

Cases: (a) an Adam train step of MLPs, and a 100-layer dispatch-bound one, and (b) its compile
time (``bench_step``); (c) ``pmm.fit`` against a raw ``lax.scan`` loop (``bench_fit``); (d) the
eager call with shape checks off and on (``bench_checks``); (e) save + load of a ~100 MB model
(``bench_io``); (f) AEPMM step time against batch and matrix size, as log-log charts
(``bench_scaling``).
"""
