"""``.. executed-code::``: show Python code and the output it printed at build time.

Used where a page promises "copy this, you will see that": the code runs when
the documentation is built, so the output shown is real for the version
documented. A block that raises fails the build.
"""

import contextlib
import io
import textwrap

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from sphinx.util import logging

logger = logging.getLogger(__name__)


class ExecutedCode(Directive):
    has_content = True
    option_spec = {"hide-output": directives.flag,
                   "output-caption": directives.unchanged}

    def run(self):
        code = textwrap.dedent("\n".join(self.content))
        buffer = io.StringIO()
        namespace = {"__name__": "__executed_code__"}
        try:
            with contextlib.redirect_stdout(buffer):
                exec(compile(code, f"<{self.state.document.current_source}>", "exec"),
                     namespace)
        except Exception as exc:  # the page would show code that does not run
            logger.warning(f"executed-code block failed: {exc!r}",
                           location=(self.state.document.current_source, self.lineno))
        source = nodes.literal_block(code, code, language="python")
        result = [source]
        output = buffer.getvalue().rstrip("\n")
        if output and "hide-output" not in self.options:
            caption = self.options.get("output-caption", "Output:")
            para = nodes.paragraph()
            para += nodes.emphasis(text=caption)
            result.append(para)
            result.append(nodes.literal_block(output, output, language="none",
                                              classes=["executed-output"]))
        return result


def setup(app):
    app.add_directive("executed-code", ExecutedCode)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
