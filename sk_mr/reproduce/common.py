"""Deprecated alias of :mod:`sk_mr.paper.reproduce.common`, removed in sk_mr 0.3.0.

The paper's companion moved to :mod:`sk_mr.paper`; the warning names the new path.
"""

from sk_mr._deprecation import moved_names

__getattr__ = moved_names(__name__, "sk_mr.paper.reproduce.common")
