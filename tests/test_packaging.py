"""The package's metadata says what its files do.

* ``LICENSE`` is the BSD 3-Clause licence that ``pyproject.toml`` declares;
* ``CITATION.cff`` names the version and licence of ``pyproject.toml`` and cites
  the paper as ``docs/citing.rst`` does;
* every extra of ``pyproject.toml`` is in the extras tables of the README and of
  ``docs/install.rst``, with the packages it installs;
* the ``docs`` extra is enough to build the documentation: every third-party
  module that the gallery examples, ``docs/conf.py`` and its extensions import
  (and that the API pages import through sk_mr's modules) comes with the core
  dependencies or the ``docs`` extra, or with what those depend on.

``make dist-check`` builds the wheel and runs the quick start from it; these
tests check what can go stale without a build.
"""

import ast
import importlib.metadata
import pathlib
import re
import sys

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import sk_mr

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = pathlib.Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
EXTRAS = PROJECT["optional-dependencies"]


def _names(requirements):
    return [Requirement(r).name for r in requirements]


class TestLicense:
    def test_pyproject_declares_bsd3(self):
        assert PROJECT["license"] == {"text": "BSD-3-Clause"}

    def test_license_file_is_bsd3(self):
        text = " ".join((ROOT / "LICENSE").read_text().split())
        assert text.startswith("BSD 3-Clause License")
        assert "Copyright (c) 2026, sk_mr developers" in text
        # the three clauses and the disclaimer of the SPDX text
        for clause in ("Redistributions of source code must retain the above copyright notice",
                       "Redistributions in binary form must reproduce the above copyright notice",
                       "Neither the name of the copyright holder nor the names of its contributors",
                       'THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"'):
            assert clause in text

    def test_author_matches(self):
        assert PROJECT["authors"] == [{"name": "sk_mr developers"}]


@pytest.fixture(scope="module")
def cff():
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((ROOT / "CITATION.cff").read_text())


class TestCitation:
    def test_software_entry(self, cff):
        assert cff["cff-version"] == "1.2.0"
        assert cff["type"] == "software"
        assert str(cff["version"]) == PROJECT["version"] == sk_mr.__version__
        assert cff["license"] == PROJECT["license"]["text"]
        assert cff["authors"] == [{"name": "sk_mr developers"}]
        assert cff["title"].startswith("sk_mr")

    def test_paper_reference_matches_citing_page(self, cff):
        (paper,) = cff["references"]
        citing = (ROOT / "docs" / "citing.rst").read_text()
        bib_title = re.search(r"title\s*=\s*\{(.+?)\}", citing).group(1)
        bib_authors = re.search(r"author\s*=\s*\{(.+?)\}", citing).group(1)
        bib_year = int(re.search(r"year\s*=\s*\{(\d+)\}", citing).group(1))
        arxiv = re.search(r"arXiv:(\d{4}\.\d{5})", citing).group(1)
        assert paper["type"] == "article"
        assert paper["title"] == bib_title
        assert [f"{a['family-names']}, {a['given-names']}" for a in paper["authors"]] \
            == bib_authors.split(" and ")
        assert paper["year"] == bib_year
        assert arxiv in paper["url"]
        assert [i["value"] for i in paper["identifiers"]] == [f"arXiv:{arxiv}"]


def _readme_extras_table():
    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        match = re.match(r"\| `([\w-]+)` \| ([^|]+) \| ([^|]+) \|$", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def _install_page_extras_table():
    text = (ROOT / "docs" / "install.rst").read_text()
    table = text[text.index("Optional extras"):text.index("Other targets")]
    rows = {}
    for block in re.split(r"\n   \* - ", table)[1:]:
        name, installs = [cell.strip() for cell in re.split(r"\n     - ", block)[:2]]
        rows[name.strip("`")] = " ".join(installs.split())
    del rows["extra"]  # the header row
    return rows


@pytest.mark.parametrize("table", [_readme_extras_table, _install_page_extras_table],
                         ids=["README.md", "docs/install.rst"])
def test_extras_tables_list_every_extra_and_its_packages(table):
    rows = table()
    assert set(rows) == set(EXTRAS)
    for extra, requirements in EXTRAS.items():
        listed = {canonicalize_name(word)
                  for word in re.findall(r"[A-Za-z][\w.-]*", rows[extra].replace("[", " ["))}
        for requirement in requirements:
            assert canonicalize_name(Requirement(requirement).name) in listed, \
                f"extra {extra!r}: {requirement} is not in its row ({rows[extra]!r})"


# -- the docs extra builds the docs -------------------------------------------------------

def _closure(requirements):
    """The distributions ``requirements`` install: themselves and, transitively,
    what their installed metadata requires (markers evaluated with their extras)."""
    seen = {}
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        extras = set(req.extras)
        if name in seen and extras <= seen[name]:
            continue
        seen[name] = seen.get(name, set()) | extras
        try:
            requires = importlib.metadata.requires(req.name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for spec in requires:
            sub = Requirement(spec)
            envs = [{"extra": e} for e in seen[name]] or [{"extra": ""}]
            if sub.marker is None or any(sub.marker.evaluate(env) for env in envs):
                todo.append(sub)
    return set(seen)


def _imports(path, top_level_only=False):
    """Top-level names of the absolute imports in ``path`` (every import, or only
    those run when the module is imported)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = tree.body if top_level_only else ast.walk(tree)
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _docs_build_imports():
    """module name -> the files of the docs build that import it."""
    sources = {}
    for path in sorted((ROOT / "examples").rglob("*.py")):
        sources[path] = _imports(path)
    for path in [ROOT / "docs" / "conf.py", *sorted((ROOT / "docs" / "_ext").glob("*.py"))]:
        sources[path] = _imports(path)
    conf = ast.parse((ROOT / "docs" / "conf.py").read_text())
    for node in ast.walk(conf):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "extensions"
                                                for t in node.targets):
            sources[ROOT / "docs" / "conf.py"] |= {ast.literal_eval(e).split(".")[0]
                                                   for e in node.value.elts}
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "html_theme"
                                                for t in node.targets):
            sources[ROOT / "docs" / "conf.py"].add(ast.literal_eval(node.value))
    # autodoc imports every documented module of sk_mr: what they import when imported
    for path in sorted((ROOT / "sk_mr").rglob("*.py")):
        sources[path] = _imports(path, top_level_only=True)
    used = {}
    local = {p.stem for p in (ROOT / "docs" / "_ext").glob("*.py")}
    for path, names in sources.items():
        for name in names - set(sys.stdlib_module_names) - local - {"sk_mr", "__future__"}:
            used.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return used


def test_docs_extra_covers_every_import_of_the_docs_build():
    installed = _closure(PROJECT["dependencies"] + EXTRAS["docs"])
    providers = importlib.metadata.packages_distributions()
    missing = {}
    for module, files in sorted(_docs_build_imports().items()):
        dists = {canonicalize_name(d) for d in providers.get(module, [module])}
        if not dists & installed:
            missing[module] = files
    assert not missing, ("imported by the docs build but not installed by the core "
                         f"dependencies or the docs extra: {missing}")


def test_docs_extra_check_sees_the_gallery_imports():
    # the check above is only as good as the imports it finds: the gallery's
    # optional packages must be among them
    used = _docs_build_imports()
    for module in ("accelerate", "dask", "cleanlab", "torchattacks", "tensorboard",
                   "matplotlib", "sphinx_gallery", "numpydoc", "pydata_sphinx_theme"):
        assert module in used
    assert "accelerate" not in {canonicalize_name(d) for d in _closure(PROJECT["dependencies"])}
