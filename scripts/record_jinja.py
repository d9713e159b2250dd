"""Records what Jinja2 renders for every case of tests/jinja/*.cases (or of the
*.cases files of the folder given as the only argument).

Each case renders in docker-pygen's environment: trim_blocks, lstrip_blocks, the
loopcontrols extension, the filters `any` and `all`, no autoescape, the default
Undefined. The results go to tests/jinja/expected.json as
{"case-name": {"out": "..."}} or {"case-name": {"err": "ExceptionClass: message"}},
keys sorted, so the Rust conformance test runs without Python.

Case file format:

    === case-name
    data: {"x": 1}
    ---
    template text

`data:` (one line of JSON, optional) is the render context. The template runs up to
the newline before the next `=== ` line (or the end of the file, one trailing newline
dropped).

A case may bring other templates for `extends`, `include` and `import`: each starts with
a line `--- file: NAME` after the main template and runs up to the newline before the
next such line (or the end of the case). They are loaded by name (a DictLoader here, a
folder holding them as files on the Rust side); the main template is rendered from its
text, as an inline template. Cases whose name ends in `-prop` render with a fixed random seed; the Rust
side checks properties of their output instead of the bytes.
"""

import json
import random
import sys
from pathlib import Path

import jinja2


def parse_cases(path):
    """Yields (name, data, template) for each case of one file."""
    text = path.read_bytes().decode("utf-8")
    if not text.startswith("=== "):
        raise SystemExit(f"{path}: must start with a `=== name` line")
    chunks = ("\n" + text).split("\n=== ")[1:]
    for chunk in chunks:
        header, sep, body = chunk.partition("\n---\n")
        if not sep:
            if chunk.endswith("\n---"):
                header, body = chunk[: -len("\n---")], ""
            else:
                raise SystemExit(f"{path}: case `{chunk.splitlines()[0]}` has no `---` line")
        lines = header.split("\n")
        name = lines[0].strip()
        data = {}
        for line in lines[1:]:
            if line.startswith("data:"):
                data = json.loads(line[len("data:"):])
            elif line.strip():
                raise SystemExit(f"{path}: case `{name}`: unexpected header line {line!r}")
        yield name, data, body


def split_files(body):
    """Splits a case's text into the main template and {name: text} of its other files."""
    parts = ("\n" + body).split("\n--- file: ")
    files = {}
    for part in parts[1:]:
        name, _, text = part.partition("\n")
        files[name.strip()] = text
    return parts[0][1:], files


def strip_last_newline(body):
    """The template of the last case ends where the file ends, one newline dropped."""
    return body[:-1] if body.endswith("\n") else body


def environment(files):
    """docker-pygen's Jinja2 environment (templates.py), loading `files` by name."""
    env = jinja2.Environment(
        loader=jinja2.DictLoader(files),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.loopcontrols"],
    )
    env.filters["any"] = any
    env.filters["all"] = all
    return env


def render(env, template, data):
    try:
        return {"out": env.from_string(template).render(**data)}
    except Exception as e:  # every failure is a recorded outcome
        return {"err": f"{type(e).__name__}: {e}"}


def main():
    root = Path(__file__).resolve().parent.parent
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "tests" / "jinja"
    results = {}
    for path in sorted(folder.glob("*.cases")):
        cases = list(parse_cases(path))
        for index, (name, data, template) in enumerate(cases):
            if index == len(cases) - 1:
                template = strip_last_newline(template)
            if name in results:
                raise SystemExit(f"{path}: duplicate case name {name}")
            template, files = split_files(template)
            random.seed(name)
            results[name] = render(environment(files), template, data)
    out = folder / "expected.json"
    out.write_text(
        json.dumps(results, sort_keys=True, indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    print(f"{len(results)} cases recorded with Jinja2 {jinja2.__version__} into {out}")


if __name__ == "__main__":
    sys.exit(main())
