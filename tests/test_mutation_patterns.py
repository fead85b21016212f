"""The mutation check's patterns still match the code (tests/mutation/run.py).

Each deliberate bug is a snippet of sk_mr replaced; when the code moves, this
fails at once (``make mutation`` would too, later), naming the mutant to update.
"""

import importlib.util
import os
import re

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("mutation_run",
                                              os.path.join(HERE, "mutation", "run.py"))
mutation = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mutation)


@pytest.mark.parametrize("mutant", mutation.MUTANTS, ids=lambda m: m.name)
def test_each_pattern_matches_once_and_names_existing_tests(mutant):
    for filename, pattern, replacement in mutant.edits:
        with open(os.path.join(mutation.REPO, "sk_mr", filename)) as f:
            source = f.read()
        assert len(re.findall(pattern, source)) == 1, (mutant.name, filename, pattern)
        assert re.sub(pattern, replacement, source) != source
    for test in mutant.tests:
        path, _, node = test.partition("::")
        with open(os.path.join(mutation.REPO, path)) as f:
            # a test class, or a test function at module level
            assert not node or re.search(rf"^(class|def) {re.escape(node)}\b", f.read(),
                                         re.MULTILINE), test
