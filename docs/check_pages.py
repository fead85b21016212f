"""Check the built documentation as a reader sees it, in headless Chromium.

Serves ``docs/_build/html`` on a loopback port and checks it in two passes.

Every built page, read as HTML (no browser needed):

* nothing is loaded from another host: no ``<script src>``, stylesheet,
  image or frame whose address is absolute (``https://...``, ``//...``), and
  no ``url(http...)`` in the stylesheets of ``_static`` (the build is
  offline and so is the site; links to other sites are fine);
* no internal wording (``BANNED_WORDING``: issue numbers, "session", "the
  project's development machine", ...) in the article's text, code included;
* every gallery example shows what it computed: at least one figure whose
  file exists and is not empty, and no gallery index shows sphinx-gallery's
  placeholder thumbnail;
* the source links agree: each ``[source]`` link of an API page lands on the
  highlighted definition of its object, and each ``[docs]`` link of a source
  page lands on an anchor of its API page.

A set of pages (``PAGES``), rendered in headless Chromium at a 1400-pixel
wide window (a screenshot of each is saved to ``docs/_build/screenshots/``),
checked in the DOM *after* JavaScript ran (MathJax included). A page fails
when

* it is blank (hardly any text in its article, or an almost white
  screenshot);
* it shows raw LaTeX (a math element that MathJax did not typeset) or raw
  reStructuredText (roles such as ``:class:`x```, directives, substitutions
  or docutils error messages in the text);
* it is the MRClassifier page and lacks the parameter table (the
  "Parameters" field list with ``eta``, ``loss_pass`` and ``mixup_alpha``);
* it is a gallery page and shows no image, or an image file that is
  missing or empty;
* a data table (most of its body cells short: numbers, names; the rule of
  ``docs/_ext/data_tables.py``) wraps the text of a body cell onto a second
  line (a column title may wrap) or is wider than the article, measured in
  the page by a script the server adds (``MEASURE_JS``);
* the browser requested anything from another host;
* on a phone-sized window (``PHONE_PAGES``), the page itself scrolls sideways,
  or a data table is not inside a horizontally scrollable container.

Usage: ``python docs/check_pages.py [--html DIR] [--out DIR] [--chromium PATH]``
(``make docs-check`` runs it after ``make docs``). Exits 1 on any failure,
2 when Chromium is missing.
"""

import argparse
import functools
import hashlib
import html
import html.parser
import http.server
import json
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
    "gallery-index": "auto_examples/index.html",
    "results": "results.html",
    "install": "install.html",
    "faq": "faq.html",
    "which-method": "which_method.html",
}
# screenshot heights of long pages (a gallery page's first figure is below its code)
HEIGHTS = {"gallery-weights": 3200, "results": 3200, "gallery-index": 2400,
           "which-method": 3200}
WIDTH = 1400
# pages also rendered at a phone's width (CSS pixels)
PHONE_PAGES = ("results", "which-method")
PHONE_WIDTH = 412

# What a reader of the published site must not see: the vocabulary of how the
# project is run, not of what it does.
BANNED_WORDING = [
    (re.compile(r"\bissues?\s+#?\d+\b", re.I), "an issue number"),
    (re.compile(r"\bthe issue (?:that|of|which)\b", re.I), "'the issue that/of'"),
    (re.compile(r"\bsessions?\b", re.I), "'session'"),
    (re.compile(r"\bdevelopment machine\b", re.I), "'development machine'"),
    (re.compile(r"\bthe project['’]s\b", re.I), "'the project's'"),
    (re.compile(r"\b(?:lead|other) engineers?\b", re.I), "an engineer of the project"),
    (re.compile(r"\bthe brief\b|\bthe CEO\b", re.I), "the project's roles"),
    (re.compile(r"\b(?:TODO|FIXME|XXX)\b"), "a to-do marker"),
]

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--virtual-time-budget=15000",
]

# Added by the server before </body> of a page requested with ?sk-mr-measure:
# measures the page after it laid out and writes the facts as JSON into the
# <html> element's data-sk-mr-measure attribute, which --dump-dom returns.
MEASURE_JS = r"""
<script>
window.addEventListener("load", () => setTimeout(() => {
  const out = {width: window.innerWidth, page_scroll_width: document.documentElement.scrollWidth,
               tables: [], external: []};
  const article = document.querySelector("article.bd-article") || document.body;
  for (const table of article.querySelectorAll("table")) {
    const cells = [...table.querySelectorAll("td, th")];
    // the rule of docs/_ext/data_tables.py: 80% of the body cells are 30 characters or fewer
    const body = [...table.querySelectorAll("tbody td, tbody th")];
    const short = body.filter(c => c.innerText.replace(/\s+/g, " ").trim().length <= 30).length;
    const data = body.length > 0 && short >= 0.8 * body.length;
    const caption = (table.querySelector("caption") || {}).innerText ||
                    (cells[0] ? cells[0].innerText : "");
    const wrapped = [];
    for (const cell of table.querySelectorAll("tbody td, tbody th")) {
      // the line boxes of the cell's text: more than one top means a wrap
      const tops = [];
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.textContent.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const rect of range.getClientRects()) {
          if (rect.width > 0 && !tops.some(top => Math.abs(top - rect.top) < rect.height / 2))
            tops.push(rect.top);
        }
      }
      if (tops.length > 1) wrapped.push(cell.innerText.trim().slice(0, 40));
    }
    let scroller = table.parentElement, scrollable = false;
    while (scroller && scroller !== article) {
      const overflow = getComputedStyle(scroller).overflowX;
      if (overflow === "auto" || overflow === "scroll") { scrollable = true; break; }
      scroller = scroller.parentElement;
    }
    out.tables.push({caption: caption.trim().slice(0, 60), data: data, wrapped: wrapped,
                     table_width: table.scrollWidth, article_width: article.clientWidth,
                     scrollable: scrollable});
  }
  out.external = performance.getEntriesByType("resource").map(e => e.name)
                 .filter(name => !name.startsWith(location.origin) && !name.startsWith("data:"));
  document.documentElement.setAttribute("data-sk-mr-measure", JSON.stringify(out));
}, 500));
</script>
"""

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

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if "sk-mr-measure" not in query or not path.endswith(".html"):
            return super().do_GET()
        file = os.path.join(self.directory, path.lstrip("/"))
        with open(file, "rb") as f:
            page = f.read().replace(b"</body>", MEASURE_JS.encode() + b"</body>", 1)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)


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


def render(chromium, url, screenshot, profile, height=1600, width=WIDTH):
    """Return the DOM of ``url`` measured at ``width``; save a screenshot (if asked)."""
    common = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
              f"--window-size={width},{height}"]
    dom = subprocess.run([*common, "--dump-dom", url + "?sk-mr-measure"], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    if screenshot:
        subprocess.run([*common, f"--screenshot={screenshot}", url],
                       capture_output=True, timeout=120, check=True)
    return dom


def measurements(dom):
    """The facts MEASURE_JS wrote into the DOM, or None if it did not run."""
    match = re.search(r'data-sk-mr-measure="([^"]*)"', dom)
    return json.loads(html.unescape(match.group(1))) if match else None


def check_tables(facts, phone=False):
    problems = []
    if facts is None:
        return ["the measuring script did not run (no data-sk-mr-measure in the DOM)"]
    for url in facts["external"]:
        problems.append(f"requested from another host: {url}")
    if phone:
        if facts["page_scroll_width"] > facts["width"] + 1:
            problems.append(f"at {facts['width']} px the page scrolls sideways "
                            f"({facts['page_scroll_width']} px wide)")
        for table in facts["tables"]:
            if table["data"] and not table["scrollable"]:
                problems.append(f"table {table['caption']!r} is not in a horizontally "
                                "scrollable container")
        return problems
    for table in facts["tables"]:
        if not table["data"]:
            continue
        if table["wrapped"]:
            problems.append(f"table {table['caption']!r} wraps {len(table['wrapped'])} "
                            f"cell(s) at {facts['width']} px, e.g. {table['wrapped'][:3]}")
        if table["table_width"] > table["article_width"] + 1:
            problems.append(f"table {table['caption']!r} is {table['table_width']} px wide, "
                            f"wider than the article ({table['article_width']} px)")
    return problems


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
    if name.startswith("gallery") and not path.endswith("index.html"):
        problems += gallery_figures(page, html_dir, path)
    problems += check_tables(measurements(dom))
    return problems


# -- the static pass: every built page ------------------------------------------------

EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.I)
LOADING_RELS = {"stylesheet", "preload", "modulepreload", "prefetch", "icon", "manifest"}


class Resources(html.parser.HTMLParser):
    """The addresses a page makes the browser load (not the links it shows)."""

    def __init__(self):
        super().__init__()
        self.loaded = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "embed", "source", "video", "audio") \
                and attrs.get("src"):
            self.loaded.append(attrs["src"])
        if tag == "link" and attrs.get("href") \
                and set((attrs.get("rel") or "").lower().split()) & LOADING_RELS:
            self.loaded.append(attrs["href"])


def html_files(html_dir):
    for dirpath, dirnames, files in os.walk(html_dir):
        dirnames.sort()
        for name in sorted(files):
            if name.endswith(".html"):
                yield os.path.relpath(os.path.join(dirpath, name), html_dir)


def gallery_figures(page, html_dir, path):
    """Problems with the figures of a gallery example page."""
    problems = []
    figures = [img for img in page.images
               if "sphx-glr" in (img.get("class") or "") and img.get("src")]
    if not figures:
        problems.append("no gallery image on the page")
    for img in figures:
        target = os.path.normpath(os.path.join(html_dir, os.path.dirname(path), img["src"]))
        if not os.path.exists(target) or os.path.getsize(target) < 1000:
            problems.append(f"gallery image {img['src']} is missing or empty")
    return problems


def source_link_problems(html_dir):
    """[source] links of API pages and [docs] links of source pages that miss."""
    problems = []
    ids = {}

    def anchors(file):
        if file not in ids:
            ids[file] = (set(re.findall(r'id="([^"]+)"', open(file).read()))
                         if os.path.exists(file) else None)
        return ids[file]

    for path in html_files(html_dir):
        text = open(os.path.join(html_dir, path)).read()
        here = os.path.dirname(os.path.join(html_dir, path))
        if path.startswith("generated" + os.sep):
            for obj, body in re.findall(r'<dt class="sig sig-object py" id="([^"]+)">(.*?)</dt>',
                                        text, re.S):
                link = re.search(r'href="([^"]*_modules/[^"#]+)#([^"]+)">'
                                 r'<span class="viewcode-link"', body)
                if not link:
                    continue
                target = os.path.normpath(os.path.join(here, link.group(1)))
                source = open(target).read() if os.path.exists(target) else ""
                block = re.search(r'<div class="viewcode-block" id="%s">(.*?)(?=<div class='
                                  r'"viewcode-block"|$)' % re.escape(link.group(2)), source, re.S)
                name = obj.rsplit(".", 1)[1]
                code = html.unescape(re.sub(r"<[^>]+>", "", block.group(1)))[:600] if block else ""
                if not re.search(rf"(?:def|class)\s+{re.escape(name)}\b|^\s*{re.escape(name)}"
                                 r"\s*[:=]", code, re.M):
                    problems.append((path, f"[source] of {obj} lands on "
                                           f"#{link.group(2)} of {link.group(1)}, not on its code"))
        elif path.startswith("_modules" + os.sep):
            for block, target, anchor in re.findall(
                    r'<div class="viewcode-block" id="([^"]+)">\s*<a class="viewcode-back" '
                    r'href="([^"#]+)#([^"]+)">', text):
                found = anchors(os.path.normpath(os.path.join(here, target)))
                if found is None or anchor not in found:
                    problems.append((path, f"[docs] of {block} points at #{anchor} of "
                                           f"{target}, which has no such anchor"))
    return problems


def static_checks(html_dir):
    """(path, problem) for every built page; see the module docstring."""
    problems = []
    thumbnails = {}
    for path in html_files(html_dir):
        with open(os.path.join(html_dir, path), encoding="utf-8") as f:
            text = f.read()
        resources = Resources()
        resources.feed(text)
        for url in resources.loaded:
            if EXTERNAL.match(url):
                problems.append((path, f"loads {url} from another host"))
        page = Page()
        page.feed(text)
        article = " ".join("".join(page.article_text).split())
        for pattern, what in BANNED_WORDING:
            for match in pattern.finditer(article):
                start = max(0, match.start() - 40)
                problems.append((path, f"internal wording ({what}): "
                                       f"{article[start:match.end() + 40]!r}"))
        if path.startswith("auto_examples" + os.sep):
            if os.path.basename(path) == "index.html":
                for img in page.images:
                    src = img.get("src") or ""
                    if "_thumb." in src:
                        file = os.path.normpath(os.path.join(html_dir, os.path.dirname(path),
                                                             src))
                        if os.path.exists(file):
                            digest = hashlib.md5(open(file, "rb").read()).hexdigest()
                            thumbnails.setdefault(digest, []).append(os.path.basename(src))
            else:
                problems += [(path, problem) for problem in gallery_figures(page, html_dir, path)]
    for names in thumbnails.values():
        if len(set(names)) > 1:
            problems.append(("auto_examples", "identical thumbnails (sphinx-gallery's "
                                              f"placeholder?): {sorted(set(names))}"))
    static = os.path.join(html_dir, "_static")
    for dirpath, _, files in os.walk(static):
        for name in files:
            if name.endswith(".css"):
                with open(os.path.join(dirpath, name), encoding="utf-8", errors="replace") as f:
                    for url in re.findall(r"""url\(\s*['"]?((?:https?:)?//[^'")\s]+)""", f.read()):
                        problems.append((os.path.relpath(os.path.join(dirpath, name), html_dir),
                                         f"stylesheet loads {url} from another host"))
    return problems + source_link_problems(html_dir)


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

    static = static_checks(args.html)
    n_files = sum(1 for _ in html_files(args.html))
    print(f"{'FAIL' if static else 'ok  '} static checks of {n_files} pages (other hosts, "
          "internal wording, gallery figures and thumbnails, source links)")
    for path, problem in static:
        print(f"     - {path}: {problem}")

    server = serve(args.html)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    failures = 0
    renders = [(name, path, False) for name, path in PAGES.items()]
    renders += [(name, PAGES[name], True) for name in PHONE_PAGES]
    try:
        for name, path, phone in renders:
            label = f"{name}-phone" if phone else name
            png = os.path.join(args.out, f"{label}.png")
            with tempfile.TemporaryDirectory(prefix="sk_mr_chromium_") as profile:
                try:
                    dom = render(chromium, base + path, png, profile,
                                 HEIGHTS.get(name, 1600) if not phone else 1600,
                                 PHONE_WIDTH if phone else WIDTH)
                except subprocess.SubprocessError as exc:
                    print(f"FAIL {label} ({path}): Chromium failed: {exc}")
                    failures += 1
                    continue
            with open(os.path.join(args.out, f"{label}.html"), "w") as f:
                f.write(dom)
            if phone:
                problems = check_tables(measurements(dom), phone=True)
            else:
                page = Page()
                page.feed(dom)
                problems = check(name, page, dom, png, args.html, path)
            status = "FAIL" if problems else "ok  "
            print(f"{status} {label:<18} {path}  ->  {png}")
            for problem in problems:
                print(f"     - {problem}")
            failures += bool(problems)
    finally:
        server.shutdown()
    print(f"{len(renders) - failures} of {len(renders)} rendered pages passed; static checks "
          f"{'failed' if static else 'passed'}")
    return 1 if failures or static else 0


if __name__ == "__main__":
    sys.exit(main())
