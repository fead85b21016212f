"""Reproduction of the paper's experiments as resumable command-line grids.

``python -m sk_mr reproduce noisy-labels ...`` (Tables 1, 2, 3, 5) and
``python -m sk_mr reproduce adversarial ...`` (Tables 4, 7, 8). See
:mod:`sk_mr.paper.reproduce.noisy_labels` and :mod:`sk_mr.paper.reproduce.adversarial`;
what they share (the grid runner) is in :mod:`sk_mr.paper.reproduce.common`.
"""
