"""Check the built documentation as a reader sees it, in headless Chromium.

Serves ``docs/_build/html`` on a loopback port, renders four pages in
headless Chromium (the home page, the MRClassifier API page, the user guide
and a gallery example), saves a screenshot of each to
``docs/_build/screenshots/`` and checks the DOM *after* JavaScript ran
(MathJax included). A page fails when

* it is blank (hardly any text in its article, or an almost white
  screenshot);
* it shows raw LaTeX (a math element that MathJax did not typeset) or raw
  reStructuredText (roles such as ``:class:`x```, directives, substitutions
  or docutils error messages in the text);
* it is the MRClassifier page and lacks the parameter table (the
  "Parameters" field list with ``eta``, ``loss_pass`` and ``mixup_alpha``);
* it is the gallery page and shows no image, or an image file that is
  missing or empty.

Usage: ``python docs/check_pages.py [--html DIR] [--out DIR] [--chromium PATH]``
(``make docs-check`` runs it after ``make docs``). Exits 1 on any failure,
2 when Chromium is missing.
"""

import argparse
import functools
import html.parser
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))

PAGES = {
    "home": "index.html",
    "api-mrclassifier": "generated/sk_mr.MRClassifier.html",
    "user-guide": "user_guide.html",
    "gallery-weights": "auto_examples/plot_mr_weights_digits.html",
}
# screenshot height: the gallery page's first figure is below its code
HEIGHTS = {"gallery-weights": 3200}

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--virtual-time-budget=15000",
]

# reST that escaped rendering: roles, directives, substitutions, docutils errors
RAW_REST = [
    (re.compile(r":(?:class|func|meth|mod|attr|doc|ref|math|obj|data|term):`"), "a reST role"),
    (re.compile(r"^\s*\.\. [a-z][\w-]*::", re.M), "a reST directive"),
    (re.compile(r"\|(?:release|version)\|"), "a reST substitution"),
    (re.compile(r"(?:ERROR|WARNING)/\d \("), "a docutils error message"),
    (re.compile(r"autosummary: failed|failed to import"), "an autodoc failure"),
]
RAW_LATEX = re.compile(r"\\\(|\\\[|\\frac|\\mathrm|\\sum|\\exp|\\eta")


class Page(html.parser.HTMLParser):
    """The facts the checks need from a rendered DOM."""

    SKIP = {"script", "style", "pre", "code", "textarea", "svg", "mjx-assistive-mml", "title"}

    def __init__(self):
        super().__init__()
        self.stack = []
        self.article_text = []
        self.prose_text = []
        self.math_raw = []
        self.math_elements = 0
        self.mathjax_rendered = 0
        self.images = []
        self.field_lists = []  # (field name, text of its body)
        self._field = None
        self._math_depth = None
        self._math_text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        self.stack.append((tag, classes))
        if tag == "mjx-container":
            self.mathjax_rendered += 1
        if "math" in classes and self._math_depth is None:
            self.math_elements += 1
            self._math_depth = len(self.stack)
            self._math_text = []
        if tag == "img":
            self.images.append(attrs)
        if self._field is not None:
            self._field[1] += " "  # keep a parameter's name apart from its type
        if tag == "dt" and len(self.stack) > 1 and self.stack[-2][0] == "dl" \
                and "field-list" in self.stack[-2][1]:
            self._field = ["", ""]
            self.field_lists.append(self._field)

    def handle_endtag(self, tag):
        while self.stack:
            opened, _ = self.stack.pop()
            if self._math_depth is not None and len(self.stack) < self._math_depth:
                text = "".join(self._math_text)
                if RAW_LATEX.search(text):
                    self.math_raw.append(text.strip()[:80])
                self._math_depth = None
            if opened == tag:
                break

    def handle_data(self, data):
        tags = [t for t, _ in self.stack]
        if self._math_depth is not None and not any(
                t in ("mjx-container", "svg", "mjx-assistive-mml") for t in tags):
            self._math_text.append(data)
        in_article = any(t == "article" or "bd-article" in c for t, c in self.stack)
        if in_article:
            self.article_text.append(data)
            if not any(t in self.SKIP for t in tags) and self._math_depth is None:
                self.prose_text.append(data)
        if self._field is not None and any(t == "dl" for t in tags):
            # the field's name is the text of its own <dt>, directly under the list
            own_dt = len(self.stack) > 1 and self.stack[-1][0] == "dt" \
                and "field-list" in self.stack[-2][1]
            self._field[0 if own_dt else 1] += data


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory):
    handler = functools.partial(_QuietHandler, directory=directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def find_chromium(explicit=None):
    for name in ([explicit] if explicit else []) + ["chromium", "chromium-browser",
                                                     "google-chrome"]:
        path = shutil.which(name) if name else None
        if path:
            return path
    return None


def render(chromium, url, screenshot, profile, height=1600):
    common = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    subprocess.run([*common, f"--window-size=1280,{height}", f"--screenshot={screenshot}", url],
                   capture_output=True, timeout=120, check=True)
    return dom


def blank_fraction(png):
    """Fraction of the screenshot's pixels that are (almost) white."""
    import matplotlib.image

    pixels = matplotlib.image.imread(png)[..., :3]
    return float((pixels.min(axis=-1) > 0.97).mean())


def check(name, page, dom, png, html_dir, path):
    problems = []
    text = " ".join("".join(page.article_text).split())
    prose = "".join(page.prose_text)
    if len(text) < 400:
        problems.append(f"blank: only {len(text)} characters of text in the article")
    if os.path.exists(png) and blank_fraction(png) > 0.985:
        problems.append("blank: the screenshot is almost entirely white")
    if page.math_raw:
        problems.append(f"raw LaTeX in {len(page.math_raw)} math element(s), "
                        f"e.g. {page.math_raw[0]!r}")
    if page.math_elements and not page.mathjax_rendered:
        problems.append(f"{page.math_elements} math element(s) but nothing typeset by MathJax")
    for pattern, what in RAW_REST:
        match = pattern.search(prose)
        if match:
            start = max(0, match.start() - 30)
            problems.append(f"raw reST ({what}): {prose[start:match.end() + 30]!r}")
    if name == "api-mrclassifier":
        params = [body for field, body in page.field_lists if field.strip() == "Parameters"]
        missing = [p for p in ("eta", "loss_pass", "mixup_alpha", "updates_per_epoch")
                   if not params or not re.search(rf"\b{p}\b", params[0])]
        if missing:
            problems.append("no MRClassifier parameter table (Parameters field list with "
                            f"{', '.join(missing)})")
    if name.startswith("gallery"):
        figures = [img for img in page.images
                   if "sphx-glr" in (img.get("class") or "") and img.get("src")]
        if not figures:
            problems.append("no gallery image on the page")
        for img in figures:
            target = os.path.normpath(os.path.join(html_dir, os.path.dirname(path),
                                                   img["src"]))
            if not os.path.exists(target) or os.path.getsize(target) < 1000:
                problems.append(f"gallery image {img['src']} is missing or empty")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", default=os.path.join(HERE, "_build", "html"))
    parser.add_argument("--out", default=os.path.join(HERE, "_build", "screenshots"))
    parser.add_argument("--chromium", default=None)
    args = parser.parse_args(argv)

    chromium = find_chromium(args.chromium)
    if chromium is None:
        print("check_pages: Chromium not found (Debian: apt-get install chromium)",
              file=sys.stderr)
        return 2
    if not os.path.exists(os.path.join(args.html, "index.html")):
        print(f"check_pages: no built documentation in {args.html} (run make docs)",
              file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    server = serve(args.html)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    failures = 0
    try:
        for name, path in PAGES.items():
            png = os.path.join(args.out, f"{name}.png")
            with tempfile.TemporaryDirectory(prefix="sk_mr_chromium_") as profile:
                try:
                    dom = render(chromium, base + path, png, profile, HEIGHTS.get(name, 1600))
                except subprocess.SubprocessError as exc:
                    print(f"FAIL {name} ({path}): Chromium failed: {exc}")
                    failures += 1
                    continue
            with open(os.path.join(args.out, f"{name}.html"), "w") as f:
                f.write(dom)
            page = Page()
            page.feed(dom)
            problems = check(name, page, dom, png, args.html, path)
            status = "FAIL" if problems else "ok  "
            print(f"{status} {name:<18} {path}  ->  {png}")
            for problem in problems:
                print(f"     - {problem}")
            failures += bool(problems)
    finally:
        server.shutdown()
    print(f"{len(PAGES) - failures} of {len(PAGES)} pages passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
