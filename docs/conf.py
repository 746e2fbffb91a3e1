"""Sphinx configuration of pmm's documentation site (``nox -s docs`` builds it, strictly).

Sphinx renders the numpy-style docstrings, with their ``.. math::`` blocks (the maths of every
Parametric Matrix Model), through napoleon and MathJax; pages are Markdown (MyST). ``-W -n``
turns every warning, a missing reference included, into an error.
"""

import pmm

project = "pmm"
release = pmm.__version__
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.napoleon",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
napoleon_google_docstring = False
napoleon_numpy_docstring = True
# Shapes and dtypes are written out in every docstring; jaxtyping's annotations would repeat them
# less readably.
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True}
nitpicky = True
nitpick_ignore_regex = [
    # Types named in docstrings that live outside pmm and have no page here to link to.
    ("py:class", r"(numpy|jax|optax|np|jnp)\..*"),
    ("py:class", r"(Data|DataShape|Params|State|HyperParams|PyTree|Array|Any|callable)"),
    # The jaxtyping aliases of pmm.typing, shown as what they alias.
    ("py:class", r"(jaxtyping|collections\.abc|abc)\..*"),
    # Private classes that public signatures mention.
    ("py:class", r"pmm\..*\._.*|pmm\.conformal\.heuristic\.Heuristic"),
]
html_theme = "furo"
html_title = f"pmm {release}"
