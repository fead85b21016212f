"""``.. command-help:: reproduce noisy-labels``: the ``--help`` text of a subcommand.

Rendered from ``sk_mr.__main__.build_parser()`` at build time, so the
reference cannot drift from the parser.
"""

import os

from docutils import nodes
from docutils.parsers.rst import Directive


def _subparser(parser, path):
    for name in path:
        actions = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
        parser = actions[0].choices[name]
    return parser


class CommandHelp(Directive):
    required_arguments = 1
    final_argument_whitespace = True

    def run(self):
        from sk_mr.__main__ import build_parser

        previous = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal width
        try:
            parser = _subparser(build_parser(), self.arguments[0].split())
            text = parser.format_help().replace("sk-mr ", "sk-mr ", 1)
        finally:
            if previous is None:
                os.environ.pop("COLUMNS", None)
            else:
                os.environ["COLUMNS"] = previous
        return [nodes.literal_block(text, text, language="none")]


def setup(app):
    app.add_directive("command-help", CommandHelp)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
