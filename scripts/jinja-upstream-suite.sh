#!/bin/sh
# Runs the render cases of Jinja2's own test suite through pygen.
#
# Downloads the Jinja2 3.1.6 sdist from PyPI into /tmp, extracts from tests/test_filters.py,
# test_tests.py, test_core_tags.py and test_lexnparse.py every `env.from_string(<literal>)`
# rendered with literal data and compared with a literal (`assert ... == "..."`), skipping
# tests that build their own environment, take other fixtures or are parametrized. Each
# extracted case is rendered by Jinja2 under docker-pygen's settings (trim_blocks,
# lstrip_blocks, loopcontrols: scripts/record_jinja.py) and by pygen (the conformance test
# with JINJA_CASES_DIR), and the outputs are compared.
#
# Prints `N passed, M failed, K skipped` and the failures. The extracted cases stay in
# /tmp (Jinja2's tests are not part of this repository).
# Usage: scripts/jinja-upstream-suite.sh   (WORK=/path overrides /tmp/pygen-jinja-upstream)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-/tmp/pygen-jinja-upstream}
venv=${VENV:-/tmp/pygen-jinja-venv}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import jinja2, sys; sys.exit(jinja2.__version__ != "3.1.6")' 2>/dev/null; then
    "$venv/bin/pip" install --quiet jinja2==3.1.6
fi
mkdir -p "$work"
if [ ! -d "$work/jinja2-3.1.6" ]; then
    "$venv/bin/pip" download --quiet --no-binary :all: --no-deps jinja2==3.1.6 -d "$work"
    tar -xzf "$work/jinja2-3.1.6.tar.gz" -C "$work"
fi
cases="$work/cases"
rm -rf "$cases"
mkdir -p "$cases"

"$venv/bin/python" - "$work/jinja2-3.1.6/tests" "$cases" <<'PY'
import ast
import json
import sys
from pathlib import Path

tests, out = Path(sys.argv[1]), Path(sys.argv[2])
FILES = ["test_filters.py", "test_tests.py", "test_core_tags.py", "test_lexnparse.py"]
# What an argument or expected value may use besides literals.
SAFE = {"__builtins__": {}, "range": range, "list": list, "dict": dict, "tuple": tuple, "str": str}


def evaluate(node, names):
    """The value of an expression made of literals, the test's plain local values and a few
    builtins; ValueError for anything else."""
    try:
        return ast.literal_eval(node)
    except ValueError:
        pass
    for sub in ast.walk(node):
        if isinstance(sub, (ast.Lambda, ast.Attribute, ast.Subscript)) or (
            isinstance(sub, ast.Call) and not (isinstance(sub.func, ast.Name) and sub.func.id in SAFE)
        ):
            raise ValueError("not plain data")
    try:
        return eval(compile(ast.Expression(node), "<case>", "eval"), dict(SAFE), dict(names))
    except Exception as e:
        raise ValueError(str(e))


def jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: jsonable(v) for k, v in value.items()}
    raise ValueError("not plain data")


def render_data(call, names):
    """The context of `.render(...)`: keyword arguments and/or one dict, all plain data."""
    data = {}
    for arg in call.args:
        value = evaluate(arg, names)
        if not isinstance(value, dict):
            raise ValueError("positional render argument")
        data.update(value)
    for kw in call.keywords:
        if kw.arg is None:
            data.update(evaluate(kw.value, names))
        else:
            data[kw.arg] = evaluate(kw.value, names)
    return jsonable(data)


def is_render(node):
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "render"


def template_text(node, templates, names):
    """The text of `env.from_string(<text>)` or of a name bound to one."""
    if isinstance(node, ast.Name):
        return templates.get(node.id)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "from_string"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "env"
        and len(node.args) == 1
        and not node.keywords
    ):
        text = evaluate(node.args[0], names)
        return text if isinstance(text, str) else None
    return None


def parameter_sets(func):
    """The bindings of `@pytest.mark.parametrize` (one decorator), or one empty binding;
    None for other decorators."""
    if not func.decorator_list:
        return [{}]
    if len(func.decorator_list) != 1:
        return None
    deco = func.decorator_list[0]
    if not (isinstance(deco, ast.Call) and ast.unparse(deco.func) == "pytest.mark.parametrize"):
        return None
    try:
        names = ast.literal_eval(deco.args[0])
        rows = evaluate(deco.args[1], {})
    except (ValueError, IndexError, SyntaxError):
        return None
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",")]
    sets = []
    for row in rows:
        if len(names) == 1:
            row = (row,)
        sets.append(dict(zip(names, row)))
    return sets


def body_nodes(func):
    """The statements of the test in order (nested blocks included)."""
    return [n for n in ast.walk(func) if isinstance(n, ast.stmt) and n is not func]


extracted, skipped = [], 0
for name in FILES:
    tree = ast.parse((tests / name).read_text())
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef) or not func.name.startswith("test"):
            continue
        renders = [n for n in ast.walk(func) if is_render(n)]
        if not renders:
            continue
        params = [a.arg for a in func.args.args]
        source = ast.unparse(func)
        bindings = parameter_sets(func)
        custom = (
            bindings is None
            or any(p not in ("self", "env") and p not in (bindings[0] if bindings else {}) for p in params)
            or "Environment(" in source
            or "env." in source.replace("env.from_string", "")
        )
        if custom:
            skipped += len(renders)
            continue
        done = set()
        for binding in bindings:
            names = dict(binding)
            templates, outputs = {}, {}
            for node in body_nodes(func):
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    target = node.targets[0].id
                    if is_render(node.value):
                        outputs[target] = node.value
                        continue
                    try:
                        text = template_text(node.value, {}, names)
                    except ValueError:
                        text = None
                    if text is not None:
                        templates[target] = text
                        continue
                    try:
                        names[target] = evaluate(node.value, names)
                    except ValueError:
                        pass
                if not (isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare)):
                    continue
                cmp = node.test
                if len(cmp.ops) != 1 or not isinstance(cmp.ops[0], ast.Eq):
                    continue
                left, right = cmp.left, cmp.comparators[0]
                if isinstance(left, ast.Name) and left.id in outputs:
                    left = outputs[left.id]
                if not is_render(left):
                    left, right = right, left
                    if isinstance(left, ast.Name) and left.id in outputs:
                        left = outputs[left.id]
                if not is_render(left):
                    continue
                try:
                    expected = evaluate(right, names)
                    if not isinstance(expected, str):
                        raise ValueError("expected value is not text")
                    text = template_text(left.func.value, templates, names)
                    if text is None:
                        raise ValueError("template is not plain text")
                    data = render_data(left, names)
                except (ValueError, SyntaxError, TypeError):
                    continue
                if "\n=== " in "\n" + text:
                    continue
                done.add(id(left))
                extracted.append((f"up-{name[5:-3]}-{func.name}-{len(extracted) + 1}", data, text))
        skipped += len([r for r in renders if id(r) not in done])

with open(out / "upstream.cases", "w", encoding="utf-8", newline="") as f:
    for case, data, text in extracted:
        f.write(f"=== {case}\n")
        if data:
            f.write("data: " + json.dumps(data) + "\n")
        f.write("---\n" + text + "\n")
(out / "skipped").write_text(str(skipped))
PY

"$venv/bin/python" "$root/scripts/record_jinja.py" "$cases" >/dev/null
cd "$root"
JINJA_CASES_DIR="$cases" JINJA_ALLOW_FAIL=1 cargo test --quiet --test jinja_conformance -- --nocapture >"$work/result.txt" 2>&1 || true
grep '^FAIL' -A3 "$work/result.txt" | grep -v '^--$' || true
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$work/result.txt" | head -n 1)
if [ -z "$summary" ]; then
    cat "$work/result.txt"
    exit 1
fi
passed=${summary%% passed*}
failed=$(echo "$summary" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
echo "$passed passed, $failed failed, $(cat "$cases/skipped") skipped"
