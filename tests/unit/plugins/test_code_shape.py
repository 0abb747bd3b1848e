# SPDX-License-Identifier: GPL-3.0-or-later
"""The shape of the code (issue 19): short functions with few parameters, modules a reader can hold in mind, and one
implementation of what must exist once (a wait/backoff loop, a journal, the name rules). Measured with `ast`; the
failures list the offenders."""

import ast
import glob
import os
import re

from helpers import ROOT

MAX_FUNCTION_LINES = 40   # docstring included
MAX_PARAMETERS = 5        # self and cls not counted
MAX_MODULE_LINES = 400    # every module in plugins/
MAX_METHODS = 12          # per class


def sources(pattern="plugins/**/*.py"):
    for path in sorted(glob.glob(os.path.join(ROOT, pattern), recursive=True)):
        with open(path, encoding="utf-8") as handle:
            yield os.path.relpath(path, ROOT), handle.read()


def functions(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def parameters(node):
    args = node.args
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    return [n for n in names if n not in ("self", "cls")]


def test_functions_are_short_and_take_few_parameters():
    long, wide = [], []
    for path, text in sources():
        for node in functions(ast.parse(text)):
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                long.append("%s:%d %s (%d lines)" % (path, node.lineno, node.name, lines))
            if len(parameters(node)) > MAX_PARAMETERS:
                wide.append("%s:%d %s (%d parameters)" % (path, node.lineno, node.name, len(parameters(node))))
    assert long == [] and wide == [], "\n".join(long + wide)


def test_modules_are_short():
    big = ["%s (%d lines)" % (path, len(text.splitlines())) for path, text in sources()
           if len(text.splitlines()) > MAX_MODULE_LINES]
    assert big == []


def test_one_wait_one_journal_one_name_rule():
    """Every loop that sleeps is _wait.Waiter.wait_until; one Journal class; one definition of each name rule."""
    sleepers, journals, rules = [], [], []
    for path, text in sources():
        if re.search(r"\bsleep\(", text) and not path.endswith("_core/wait.py"):
            sleepers.append(path)
        journals += [path for node in ast.walk(ast.parse(text)) if isinstance(node, ast.ClassDef)
                     and node.name == "Journal"]
        rules += [path for name in ("KEY_PAIR_NAME_RE", "NAME_RE", "KEY_ID_RE", "INSTANCE_ID_RE")
                  if re.search(r"^%s = " % name, text, re.M)]
        if re.search(r"^def invalid\(", text, re.M):
            rules.append(path)
    assert sleepers == [] and journals == ["plugins/module_utils/_core/errors.py"]
    assert set(rules) == {"plugins/module_utils/_core/rules.py"}, rules


def test_the_layers_go_one_way():
    """Only the resource layer names API actions; nothing below the plugins imports Ansible's executor; the pure
    decisions do no I/O (no destination, files, client or resource API)."""
    calls = re.compile(r'\.call\(\s*"[A-Z]')  # client.call("SomeAction", ...)
    callers = [path for path, text in sources("plugins/**/*.py")
               if calls.search(text) and not path.endswith(("/api.py", "_core/resource.py", "_inventory/regions.py"))]
    impure = [path for path, text in sources("plugins/module_utils/**/decide.py")
              if re.search(r"from \.+(_core\.)?(destination|files|client|api|resource|transport|reservation) import", text)]
    executor = [path for path, text in sources("plugins/module_utils/**/*.py") if "ansible." in text]
    assert callers == [] and impure == [] and executor == [], (callers, impure, executor)


def test_classes_are_small_and_parameters_are_not_packed():
    """No class with more than MAX_METHODS methods; no parameter unpacked as a tuple inside its function (`a, b =
    param`: the 5-parameter rule met by packing is a defect); no `with ... as self.<attr>` (state through attributes)."""
    wide, packed, held = [], [], []
    for path, text in sources():
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                methods = [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
                if len(methods) > MAX_METHODS:
                    wide.append("%s:%d %s (%d methods)" % (path, node.lineno, node.name, len(methods)))
            if isinstance(node, (ast.With, ast.AsyncWith)):
                held += ["%s:%d" % (path, node.lineno) for item in node.items
                         if isinstance(item.optional_vars, ast.Attribute)]
        for function in functions(tree):
            names = set(parameters(function))
            for node in ast.walk(function):
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple) and \
                        isinstance(node.value, ast.Name) and node.value.id in names:
                    packed.append("%s:%d %s unpacks %s" % (path, node.lineno, function.name, node.value.id))
    assert wide == [] and packed == [] and held == [], "\n".join(wide + packed + held)


def dataclass_frozen(node):
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Name) and decorator.id == "dataclass":
            return False
        if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "dataclass":
            return any(k.arg == "frozen" and getattr(k.value, "value", None) is True for k in decorator.keywords)
    return None  # not a dataclass


def test_no_mutable_dataclass():
    """Plans, snapshots, records, specs and outcomes are values: every dataclass in plugins/ is frozen."""
    mutable = ["%s:%d %s" % (path, node.lineno, node.name) for path, text in sources()
               for node in ast.walk(ast.parse(text)) if isinstance(node, ast.ClassDef) and dataclass_frozen(node) is False]
    assert mutable == []
