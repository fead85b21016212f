"""Mark the tables of numbers so that their cells never wrap.

A table most of whose body cells are short (numbers such as ``88.1 ± 1.6``,
method names) is read across its rows: a cell broken over two lines breaks
the columns. Such tables get the class ``data-table``; ``_static/sk_mr.css``
keeps their cells on one line and lets them use the page's full width, and
the theme's scrollable container lets a phone scroll them sideways. Tables
of prose (the install page's extras, say) keep wrapping.
``docs/check_pages.py`` measures the result in a browser with the same rule.
"""

from docutils import nodes

#: a cell this long or shorter counts as short (``check_pages.py`` uses the same)
SHORT = 30
#: the share of short body cells that makes a table a data table
SHARE = 0.8


def is_data_table(table):
    cells = [entry.astext().strip() for body in table.findall(nodes.tbody)
             for entry in body.findall(nodes.entry)]
    return bool(cells) and sum(len(" ".join(c.split())) <= SHORT for c in cells) \
        >= SHARE * len(cells)


def _mark(app, doctree, docname):
    for table in doctree.findall(nodes.table):
        if is_data_table(table) and "data-table" not in table["classes"]:
            table["classes"].append("data-table")


def setup(app):
    app.connect("doctree-resolved", _mark)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
