"""Sphinx configuration of the constitutive documentation site.

Build (from the repository root; ``pip install -e ".[docs]"`` first)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Sources: ``index.rst`` (entry page), the Markdown pages ``docs/*.md`` (myst-parser), two sphinx-gallery galleries
(``docs/lessons`` -> ``auto_lessons``: the teaching track; ``docs/gallery`` -> ``auto_examples``: one page per
program in ``examples/``) and the API reference ``docs/api`` (generated here at build time from every public
module's ``__all__``; see ``_pages.py``). Every formula is rendered by MathJax; ``nitpicky`` is on.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# The checkout's package, not whatever copy an environment happens to have installed.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "api"))

import _pages  # noqa: E402

import constitutive  # noqa: E402

project = "constitutive"
author = "the constitutive authors"
copyright = "2026, the constitutive authors"
version = release = constitutive.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    # MathJax 3 copied into _static/mathjax: formulas render offline (a course handout, a CI machine, a laptop
    # on a train), not only with a CDN in reach.
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
html_static_path = ["_static"]
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    # sphinx-gallery's per-directory READMEs are its own inputs, not pages.
    "lessons/README.rst",
    "gallery/README.rst",
    # sphinx-gallery writes these next to each generated page; they are downloads, not sources.
    "auto_lessons/*.ipynb",
    "auto_examples/*.ipynb",
    "auto_lessons/*.py",
    "auto_examples/*.py",
    "auto_lessons/*.md5",
    "auto_examples/*.md5",
    "auto_lessons/*.json",
    "auto_examples/*.json",
    "auto_lessons/*.zip",
    "auto_examples/*.zip",
    # reports the example programs write next to their figures (not pages of the site)
    "figures/*.md",
]

html_theme = "furo"
html_title = f"constitutive {release}"
html_css_files = ["custom.css"]
# Search results without the text snippet: the snippet is fetched from each result page, which browsers refuse for
# file:// pages (a site opened from disk, a course handout) -- with it, every search logs CORS errors there.
html_show_search_summary = False

# -- Markdown (the hand-written pages docs/*.md) ----------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3  # the pages link to their sections as page.md#section-title

# -- autodoc --------------------------------------------------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"
autodoc_default_options = {"show-inheritance": True}
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False

# -- cross-references -----------------------------------------------------------------------------------------------
nitpicky = True
# Kept short: names outside this package that have no inventory here (the site builds offline, without
# intersphinx), and typing aliases that Sphinx cannot document.
nitpick_ignore_regex = [
    # third-party and standard-library types in signatures and docstrings
    (
        r"py:.*",
        r"(torch|numpy|np|scipy|matplotlib|pathlib|argparse|collections|typing|types|os|io|ctypes|skfem)(\..*)?",
    ),
    # builtins that Python's domain has no target for without intersphinx
    (r"py:.*", r"(Path|Tensor|Callable|Any|Iterable|Iterator|Sequence|Mapping|Figure|Axes|NamedTuple|Enum)"),
    (r"py:.*", r"(int|float|str|bool|dict|list|tuple|set|bytes|object|type|None|open|Exception|[A-Za-z]*Error)"),
    (r"py:.*", r"(TensorLike|TangentFn|Progress|PathLike|ArrayLike)"),
    # private helpers that docstrings mention for developers; private names get no API entry by design
    (r"py:.*", r"(.*\.)?_+[A-Za-z]\w*(\..*)?"),
]

# Programs in examples/ without a gallery page, each with the reason (tests/test_docs_site.py checks that every
# other example has its wrapper in docs/gallery/).
EXAMPLES_NOT_IN_GALLERY: dict[str, str] = {
    "regenerate_figures": "a maintenance command, not an example: it reruns the other examples (each has its own "
    "gallery page) to rewrite docs/figures/ and materials/*_fit.toml in place",
}

# scikit-fem logs every assembly and solve at INFO: thousands of lines in the build log of the two FE examples.
logging.getLogger("skfem").setLevel(logging.WARNING)

# -- the galleries --------------------------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["lessons", "gallery"],
    "gallery_dirs": ["auto_lessons", "auto_examples"],
    # Run every script of both galleries (lesson_*.py, example_*.py); nothing is skipped. The programs in examples/
    # themselves are not gallery sources: each has a thin wrapper in docs/gallery (tests/test_docs_site.py checks
    # that every examples/*.py has one, so no example can drop out silently).
    "filename_pattern": r"/(lesson|example)_",
    "within_subsection_order": "sphinx_gallery.sorting.FileNameSortKey",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "remove_config_comments": True,
    "download_all_examples": False,
    "backreferences_dir": None,
    "show_memory": False,
    "min_reported_time": 1,
    "first_notebook_cell": "%matplotlib inline",
}


# -- the package's docstring dialect, for napoleon ------------------------------------------------------------------
# Docstrings use numpy-style "Parameters" sections, then go on in prose ("Returns a report. Raises ValueError
# ...") without a section header; napoleon would read that prose as one more parameter. Attribute docstrings are
# prose whose first line may hold a colon, which napoleon would read as "type: description".
_PARAM_ENTRY = re.compile(r"^\*{0,2}[A-Za-z_]\w*(\s*,\s*\*{0,2}[A-Za-z_]\w*)*\s*(:.*)?$")
_ORIGINAL: dict[str, list[str]] = {}


def _before_napoleon(app, what, name, obj, options, lines):  # noqa: ANN001, ANN202 -- Sphinx's event signature
    """Give prose after a Parameters section its own "Notes" header; keep attribute docstrings for restoring."""
    if what in ("attribute", "data", "property"):
        _ORIGINAL[name] = list(lines)
        return
    in_parameters, i = False, 0
    while i < len(lines):
        if i + 1 < len(lines) and lines[i].strip() and set(lines[i + 1].strip()) == {"-"}:
            in_parameters = lines[i].strip() in ("Parameters", "Other Parameters")
            i += 2
            continue
        line = lines[i]
        if (
            in_parameters
            and line
            and not line[0].isspace()
            and not lines[i - 1].strip()
            and not _PARAM_ENTRY.match(line)
        ):
            lines[i:i] = ["Notes", "-----", ""]
            in_parameters = False
            i += 3
        i += 1


def _after_napoleon(app, what, name, obj, options, lines):  # noqa: ANN001, ANN202 -- Sphinx's event signature
    """Undo napoleon's "type: description" reading of an attribute's prose first line."""
    original = _ORIGINAL.pop(name, None)
    if original is not None and any(ln.startswith(":type: ") for ln in lines):
        if not any(ln.startswith(":type: ") for ln in original):
            lines[:] = original


def _public_bases(app, name, obj, options, bases):  # noqa: ANN001, ANN202 -- Sphinx's event signature
    """Show a private base class (no API entry) as its public bases."""
    i = 0
    while i < len(bases):
        if bases[i].__name__.startswith("_"):
            bases[i : i + 1] = [b for b in bases[i].__bases__ if b not in bases]
        else:
            i += 1


def setup(app):  # noqa: ANN001, ANN201 -- Sphinx's extension hook
    app.connect("autodoc-process-docstring", _before_napoleon, priority=400)  # napoleon runs at 500
    app.connect("autodoc-process-docstring", _after_napoleon, priority=600)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("builder-inited", lambda app: _pages.write_api_pages(DOCS / "api"))
    app.connect("missing-reference", _pages.resolve_reexport)
    return {"parallel_read_safe": True}
