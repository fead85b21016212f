"""The static checks of ``docs/check_pages.py`` find what they are meant to find.

``make docs-check`` runs them on the real build; here each runs on a tiny
hand-written site with one known problem, and on the same site without it.
The rule that marks tables of numbers (``docs/_ext/data_tables.py``) is
checked on tables parsed by docutils.
"""

import pathlib
import sys

import pytest

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS))
sys.path.insert(0, str(DOCS / "_ext"))

import check_pages  # noqa: E402
import data_tables  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8  # large enough to count as a figure


def page(body, head=""):
    return (f"<html><head>{head}</head><body><article class='bd-article'>{body}"
            "</article></body></html>")


ARTICLE = "<h1>Measured results</h1><p>Every number on this page comes from a command.</p>"


def write(root, files):
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


@pytest.fixture
def site(tmp_path):
    """A clean site: a page, a gallery index and an example with its figure."""
    return write(tmp_path, {
        "index.html": page(ARTICLE, head='<link rel="stylesheet" href="_static/a.css">'
                                          '<script src="_static/b.js"></script>')
                      + '<a href="https://arxiv.org/abs/2102.12192">paper</a>',
        "_static/a.css": "body { background: url(img.png); }",
        "auto_examples/index.html": page('<img src="../_images/sphx_glr_a_thumb.png">'
                                         '<img src="../_images/sphx_glr_b_thumb.png">'),
        "auto_examples/a.html": page('<img class="sphx-glr-single-img" '
                                     'src="../_images/sphx_glr_a_001.png">'),
        "auto_examples/b.html": page('<img class="sphx-glr-single-img" '
                                     'src="../_images/sphx_glr_b_001.png">'),
        "_images/sphx_glr_a_thumb.png": PNG + b"a",
        "_images/sphx_glr_b_thumb.png": PNG + b"b",
        "_images/sphx_glr_a_001.png": PNG,
        "_images/sphx_glr_b_001.png": PNG,
    })


def test_clean_site_passes(site):
    assert check_pages.static_checks(str(site)) == []


@pytest.mark.parametrize("head", [
    '<script src="https://cdn.datatables.net/1.13.6/js/jquery.dataTables.min.js"></script>',
    '<script src="//code.jquery.com/jquery-3.7.0.js"></script>',
    '<link href="https://cdn.example.org/bootstrap.min.css" rel="stylesheet">',
])
def test_resources_from_another_host_fail(site, head):
    write(site, {"sg_execution_times.html": page(ARTICLE, head=head)})
    problems = check_pages.static_checks(str(site))
    assert [p for p, _ in problems] == ["sg_execution_times.html"]
    assert "from another host" in problems[0][1]


def test_stylesheet_url_from_another_host_fails(site):
    write(site, {"_static/a.css": "@import url('https://fonts.example.org/x.css');"})
    problems = check_pages.static_checks(str(site))
    assert len(problems) == 1 and "fonts.example.org" in problems[0][1]


@pytest.mark.parametrize("text", [
    "S1-S4 are the settings of the issue that asked for eta without a grid.",
    "Hardware: the project's development machine: 2 CPU cores.",
    "Decided in issue 17.",
    "Measured in the last session.",
])
def test_internal_wording_fails(site, text):
    write(site, {"results.html": page(f"{ARTICLE}<p>{text}</p>")})
    problems = check_pages.static_checks(str(site))
    assert problems and all(p == "results.html" and "internal wording" in m
                            for p, m in problems)


def test_label_issues_are_not_internal_wording(site):
    write(site, {"inspection.html": page(f"{ARTICLE}<p>rank_label_issues finds label "
                                         "issues; the weights of the issues found.</p>")})
    assert check_pages.static_checks(str(site)) == []


def test_gallery_page_without_figure_fails(site):
    write(site, {"auto_examples/c.html": page("<pre>only text</pre>")})
    problems = check_pages.static_checks(str(site))
    assert problems == [("auto_examples/c.html", "no gallery image on the page")]


def test_placeholder_thumbnails_fail(site):
    write(site, {"_images/sphx_glr_b_thumb.png": PNG + b"a"})  # the same image as a's
    problems = check_pages.static_checks(str(site))
    assert len(problems) == 1 and "identical thumbnails" in problems[0][1]


def test_source_backlink_to_a_missing_anchor_fails(site):
    write(site, {
        "generated/sk_mr.mw.AutoEta.html": page('<dl><dt class="sig sig-object py" '
                                                'id="sk_mr.mw.AutoEta">AutoEta</dt></dl>'),
        "_modules/sk_mr/mw.html": page(
            '<div class="viewcode-block" id="AutoEta">\n<a class="viewcode-back" '
            'href="../../generated/sk_mr.mw.AutoEta.html#sk_mr.AutoEta">[docs]</a>'
            '<span class="k">class</span> <span class="nc">AutoEta</span>:</div>'),
    })
    problems = check_pages.static_checks(str(site))
    assert problems == [("_modules/sk_mr/mw.html", "[docs] of AutoEta points at "
                         "#sk_mr.AutoEta of ../../generated/sk_mr.mw.AutoEta.html, "
                         "which has no such anchor")]
    write(site, {"_modules/sk_mr/mw.html": (site / "_modules/sk_mr/mw.html").read_text()
                 .replace("#sk_mr.AutoEta", "#sk_mr.mw.AutoEta")})
    assert check_pages.static_checks(str(site)) == []


@pytest.mark.parametrize("measured, expected", [
    ({"width": 1400, "page_scroll_width": 1400, "external": [],
      "tables": [{"caption": "accuracy", "data": True, "wrapped": ["94.1 ± 0.8"],
                  "table_width": 1200, "article_width": 1368, "scrollable": True}]},
     ["wraps 1 cell(s)"]),
    ({"width": 1400, "page_scroll_width": 1400, "external": [],
      "tables": [{"caption": "accuracy", "data": True, "wrapped": [],
                  "table_width": 1500, "article_width": 1368, "scrollable": True}]},
     ["wider than the article"]),
    ({"width": 1400, "page_scroll_width": 1400, "external": [],
      "tables": [{"caption": "extras", "data": False, "wrapped": ["a long prose cell"],
                  "table_width": 1000, "article_width": 1368, "scrollable": True}]},
     []),
    ({"width": 1400, "page_scroll_width": 1400, "external": ["https://cdn.example.org/x.js"],
      "tables": []},
     ["requested from another host"]),
])
def test_table_measurements(measured, expected):
    problems = check_pages.check_tables(measured)
    assert len(problems) == len(expected)
    for problem, fragment in zip(problems, expected):
        assert fragment in problem


def test_phone_measurements():
    wide = {"width": 412, "page_scroll_width": 900, "external": [],
            "tables": [{"caption": "accuracy", "data": True, "wrapped": [],
                        "table_width": 900, "article_width": 380, "scrollable": False}]}
    problems = check_pages.check_tables(wide, phone=True)
    assert any("scrolls sideways" in p for p in problems)
    assert any("not in a horizontally scrollable container" in p for p in problems)
    fits = dict(wide, page_scroll_width=412,
                tables=[dict(wide["tables"][0], scrollable=True)])
    assert check_pages.check_tables(fits, phone=True) == []


def _table(rst):
    from docutils import nodes
    from docutils.core import publish_doctree

    return next(publish_doctree(rst).findall(nodes.table))


def test_data_table_rule():
    numbers = _table(""".. list-table::
   :header-rows: 1

   * - method
     - 0% noise
     - a long column title that is only a header
   * - plain
     - 97.65 ± 0.17
     - 85.80 ± 0.76
   * - MR + mixup + label smoothing
     - 98.15 ± 0.30
     - 95.43 ± 0.57
""")
    prose = _table(""".. list-table::
   :header-rows: 1

   * - extra
     - enables
   * - ``adversarial``
     - adversarial training with MR and attacks for evaluation; without it,
       importing the module raises an ImportError naming the extra
   * - ``plot``
     - the paper's figures from a fitted net, drawn with matplotlib
""")
    assert data_tables.is_data_table(numbers)
    assert not data_tables.is_data_table(prose)
