"""Make the "[docs]" links of the highlighted source pages land on their object.

``sphinx.ext.viewcode`` (7.x) keeps one reference prefix per *module*: the
module name under which the first object of that module was documented. When
that first object is a re-export (``sk_mr.MultiStepEta`` lives in
``sk_mr.mw``), every other back-link of the module's source page points at
``#sk_mr.<name>`` on a page whose anchor is ``#sk_mr.mw.<name>``, so the
browser stays at the top of the page. This extension rewrites each back-link
of a ``_modules/`` page to the anchor of the object the link's page
documents.
"""

import re

_BACKLINK = re.compile(r'(<div class="viewcode-block" id="(?P<name>[^"]+)">\s*'
                       r'<a class="viewcode-back" href="(?P<page>[^"#]*)#)(?P<anchor>[^"]+)"')


def _anchors(env):
    """(docname, qualified name inside its module) -> the object's anchors."""
    anchors = {}
    for name, entry in env.get_domain("py").objects.items():
        if entry.aliased:
            continue
        parts = name.split(".")
        for start in range(1, len(parts)):
            anchors.setdefault((entry.docname, ".".join(parts[start:])), []).append(
                (name, entry.node_id))
    return anchors


def _fix_backlinks(app, pagename, templatename, context, doctree):
    if not pagename.startswith("_modules/") or "body" not in context:
        return
    modname = pagename[len("_modules/"):].replace("/", ".")
    anchors = _anchors(app.env)

    def fix(match):
        page = match.group("page")
        # the link is relative to the source page; the docname is its last parts
        target_doc = page.replace("../", "").removesuffix(".html")
        candidates = anchors.get((target_doc, match.group("name")), [])
        exact = [a for n, a in candidates if n == f"{modname}.{match.group('name')}"]
        choice = exact or [a for _, a in candidates]
        if len(set(choice)) != 1:
            return match.group(0)
        return f'{match.group(1)}{choice[0]}"'

    context["body"] = _BACKLINK.sub(fix, context["body"])


def setup(app):
    app.connect("html-page-context", _fix_backlinks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
