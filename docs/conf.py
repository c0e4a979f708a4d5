"""Sphinx configuration for the sparselearn documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html`` (warnings are
errors, as in CI).
"""
import sparselearn

project = "sparselearn"
author = "the sparselearn developers"
copyright = "2026, the sparselearn developers"
release = sparselearn.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
]

# numpydoc renders Parameters/Returns sections; autosummary tables of class
# members would duplicate the autodoc member listings.
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"

intersphinx_mapping = {}
templates_path = []
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = []
nitpicky = False
