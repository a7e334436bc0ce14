"""Sphinx configuration for skgal."""

import skgal

project = "skgal"
author = "skgal developers"
release = skgal.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
]
numpydoc_show_class_members = False
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]
exclude_patterns = ["_build"]
html_theme = "alabaster"
