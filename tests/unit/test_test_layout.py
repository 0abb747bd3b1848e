# SPDX-License-Identifier: GPL-3.0-or-later
"""The test tree has no __init__.py files, so pytest imports test modules by their base name: two files with one
name in different folders stop a full run with "import file mismatch". Caught here, in the fast unit run."""

import collections
import os

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_test_module_names_are_unique():
    seen = collections.defaultdict(list)
    for folder, _dirs, files in os.walk(TESTS):
        for name in files:
            if name.startswith("test_") and name.endswith(".py") and "output" not in folder.split(os.sep):
                seen[name].append(os.path.relpath(os.path.join(folder, name), TESTS))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
