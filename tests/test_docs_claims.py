"""What the README and the documentation say exists, checked against the API.

Statements about what sk_mr offers (which estimators, whether one model trains
on several GPUs) go stale when the code moves on. These tests read the pages
as text and compare them with what ``import sk_mr`` actually provides:

* every sk_mr class name the pages mention, and every ``sk_mr.x.y`` path they
  write, can be imported (names the pages define themselves in a code sample,
  ``class AcceleratedMRRegressor(...)``, excepted);
* every public estimator (in ``sk_mr.__all__`` or ``sk_mr.distributed.__all__``)
  is mentioned in the README and in the FAQ;
* the FAQ's answers about several GPUs and about a regressor say yes, and name
  the classes that make it so, exactly when those classes exist;
* the README has none of the internal wording ``make docs-check`` bans from
  the built pages.
"""

import importlib
import inspect
import pathlib
import pkgutil
import re
import warnings

import pytest
from sklearn.base import BaseEstimator
from skorch import NeuralNet

import sk_mr

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FAQ = ROOT / "docs" / "faq.rst"
PAGES = [README, *sorted((ROOT / "docs").glob("*.rst")),
         *sorted((ROOT / "docs" / "guide").glob("*.rst"))]

# CamelCase names that read as sk_mr's: MR..., ...MR..., Accelerated...
CLASS_NAME = re.compile(r"(?<![\w.])((?:MR|Accelerated)[A-Z][a-z]\w*|\w*MR(?:Classifier|Regressor|Mixin))\b")
DOTTED = re.compile(r"(?<![\w.])(sk_mr(?:\.\w+)+)")


def _sk_mr_modules():
    modules = [sk_mr]
    for info in pkgutil.walk_packages(sk_mr.__path__, prefix="sk_mr."):
        try:
            modules.append(importlib.import_module(info.name))
        except ImportError:  # an optional extra that is not installed
            pass
    return modules


MODULES = _sk_mr_modules()
DEFINED = {name for module in MODULES for name, _ in inspect.getmembers(module)}


def _public_estimators():
    estimators = {}
    for module in (sk_mr, importlib.import_module("sk_mr.distributed")):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator) \
                    and not name.endswith("Mixin"):
                estimators[name] = obj
    return estimators


ESTIMATORS = _public_estimators()


def _faq_answers():
    """FAQ question -> its answer's text (the prose under the heading)."""
    lines = FAQ.read_text().splitlines()
    answers, question = {}, None
    for i, line in enumerate(lines):
        underline = i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1]) \
            and len(lines[i + 1]) >= len(line) > 0
        if underline:
            question = line.strip()
            answers[question] = []
        elif question is not None and not re.fullmatch(r"-{3,}", line):
            answers[question].append(line)
    return {q: " ".join(" ".join(a).split()) for q, a in answers.items()}


def _answer(about):
    matches = [a for q, a in _faq_answers().items() if re.search(about, q, re.I)]
    assert len(matches) == 1, f"the FAQ should have one question about {about!r}"
    return matches[0]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_named_classes_exist(page):
    text = page.read_text()
    defined_here = set(re.findall(r"class (\w+)\(", text))
    missing = sorted({name for name in CLASS_NAME.findall(text)
                      if name not in DEFINED and name not in defined_here})
    assert not missing, f"{page.name} names classes sk_mr does not have: {missing}"


# Pages that name the old paths of what moved to sk_mr.paper, to say they moved.
NAMES_OLD_PATHS = {"api.rst", "changelog.rst"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_dotted_paths_import(page):
    unresolved, deprecated = [], []
    for path in sorted(set(DOTTED.findall(page.read_text()))):
        parts = path.split(".")
        for split in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:split]))
            except ImportError:
                continue
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", FutureWarning)
                    for attr in parts[split:]:
                        obj = getattr(obj, attr)
                if any("moved to sk_mr.paper" in str(w.message) for w in caught):
                    deprecated.append(path)
            except AttributeError:
                unresolved.append(path)
            break
        else:
            unresolved.append(path)
    assert not unresolved, f"{page.name} writes paths that do not import: {unresolved}"
    if page.name not in NAMES_OLD_PATHS:
        assert not deprecated, f"{page.name} writes deprecated paths: {deprecated}"


def test_the_api_has_the_estimators_this_file_expects():
    # guards the checks below against a vacuous pass
    assert {"MRClassifier", "MRBinaryClassifier", "MRRegressor",
            "AcceleratedMRClassifier"} <= set(ESTIMATORS)


@pytest.mark.parametrize("page", [README, FAQ], ids=["README.md", "docs/faq.rst"])
def test_every_public_estimator_is_mentioned(page):
    text = page.read_text()
    unmentioned = sorted(name for name in ESTIMATORS if not re.search(rf"\b{name}\b", text))
    assert not unmentioned, f"{page.name} never mentions {unmentioned}"


def test_faq_several_gpus_matches_the_api():
    answer = _answer(r"several GPUs")
    multi_gpu = sorted(name for name, cls in ESTIMATORS.items()
                       if cls.__module__ == "sk_mr.distributed")
    assert multi_gpu, "sk_mr.distributed exports no estimator"
    assert answer.startswith("Yes"), answer[:80]
    for name in multi_gpu:
        assert name in answer
    assert not re.search(r"\bnot one model\b|\bone process on one device\b|"
                         r"\bcannot train\b", answer, re.I), answer


def test_faq_regressor_matches_the_api():
    answer = _answer(r"regressor")
    nets = sorted(name for name, cls in ESTIMATORS.items()
                  if issubclass(cls, NeuralNet) and cls.__module__ != "sk_mr.distributed")
    assert "MRRegressor" in nets
    assert answer.startswith("Yes"), answer[:80]
    for name in nets + ["MRMetaClassifier", "MRMetaRegressor"]:
        assert re.search(rf"\b{name}\b", answer), f"the answer does not name {name}"
    assert not re.search(r"only the classifier", answer, re.I), answer


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_denies_what_exists(page):
    text = " ".join(page.read_text().split())
    for denial in (r"only the classifier exists", r"not one model",
                   r"trains in one process on one device", r"no (?:MR )?regressor"):
        assert not re.search(denial, text, re.I), f"{page.name}: {denial!r}"


def test_readme_has_no_internal_wording():
    # the built pages are checked by `make docs-check`; the README is not built
    import sys

    sys.path.insert(0, str(ROOT / "docs"))
    from check_pages import BANNED_WORDING

    text = " ".join(README.read_text().split())
    found = [(what, match.group(0)) for pattern, what in BANNED_WORDING
             for match in pattern.finditer(text)]
    assert not found, found
