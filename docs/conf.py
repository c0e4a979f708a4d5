"""Sphinx configuration for the sparselearn documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html`` (warnings are
errors, as in CI).
"""
import pathlib
import shutil

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
# alabaster loads _static/custom.css: code blocks scroll sideways instead of
# being cut at the right edge.
html_static_path = ["_static"]
nitpicky = False

# Math without a network: when Debian's libjs-mathjax (MathJax 2) is
# installed, the build copies the parts the pages use (TeX input, CommonHTML
# output and its TeX web fonts) into _static/mathjax and loads it from
# there; otherwise Sphinx's default, MathJax from its CDN.
MATHJAX_DIR = pathlib.Path("/usr/share/javascript/mathjax")
MATHJAX_PARTS = ("MathJax.js", "config/TeX-AMS_CHTML.js", "jax/input/TeX",
                 "jax/output/CommonHTML", "jax/element", "extensions",
                 "fonts/HTML-CSS/TeX/woff")
LOCAL_MATHJAX = all((MATHJAX_DIR / part).exists() for part in MATHJAX_PARTS)
if LOCAL_MATHJAX:
    mathjax_path = "mathjax/MathJax.js?config=TeX-AMS_CHTML"  # relative to _static


def _copy_mathjax(app, exception):
    """Copy the local MathJax parts into the built site's _static/mathjax."""
    if exception is not None or app.builder.format != "html":
        return
    target = pathlib.Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        source = MATHJAX_DIR / part
        if source.is_dir():
            shutil.copytree(source, target / part, dirs_exist_ok=True)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / part)


def setup(app):
    if LOCAL_MATHJAX:
        app.connect("build-finished", _copy_mathjax)

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
    r"|n_jobs|max_bytes|n_words|level_sizes|n_output_features|n_lower|domain)$",
}
