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

# Docs that cannot drift: every documented public function and method says
# what each parameter is (PR01) and what it returns (RT01); with -W a
# missing entry fails the build.
numpydoc_validation_checks = {"PR01", "RT01"}
numpydoc_validation_exclude = {
    # Result objects and exceptions the library builds (never the user):
    # their fields are documented as Attributes, not constructor Parameters.
    r"^sparselearn\.cube\.SparsityCertificate$",
    r"^sparselearn\.cube\.CertificationIncomplete$",
    r"^sparselearn\.fourier\.Estimate$",
    r"^sparselearn\.profile\.ActivationProfile$",
    # Read-only record attributes defined as property(lambda ...): numpydoc
    # cannot find a "def" line for them (and they take no parameters).
    r"^sparselearn\.parities\.ParityDesign\.(n_samples|n_features|degree|products"
    r"|n_jobs|max_bytes|n_words|level_sizes|n_output_features|n_lower)$",
}
