"""The pmm demo: a Parametric Matrix Model extrapolates a quantum many-body energy; an MLP can't.

Run ``python -m pmm.demo`` (``--help`` for options). See ``pmm.demo.__main__`` for the steps.
"""
