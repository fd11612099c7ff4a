"""Docs that run: every example marked runnable in README.md and docs/*.md runs as written.

An example is marked by an HTML comment on the line before its fence (invisible when the Markdown
is rendered; the convention is in docs/runnable-examples.md)::

    <!-- runnable expect="delivered" -->
    ```sh
    ...
    ```

Each one runs in a throw-away directory that has what a reader who follows the docs has: the
``mailfate`` command on PATH, ``$MAILFATE_DATA_DIR`` pointing at a fresh data directory, a
``mailfate serve`` running on it (API, workers, the embedded simulator; free ports — the docs'
``127.0.0.1:8025`` is replaced by the real address), ``$KEY`` holding a ``send,read`` key and
``examples/`` of this checkout. Shell examples run under ``bash -e -o pipefail``, Python ones
with this interpreter; each must exit 0 and print its ``expect`` text (whitespace-insensitive:
Rich wraps at the terminal's width).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKED = re.compile(
    r"^<!--\s*runnable\b(?P<attrs>[^>]*?)-->[ \t]*\n```(?P<lang>\w+)[ \t]*\n(?P<body>.*?)^```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
ATTR = re.compile(r'(\w+)="([^"]*)"')
RUNNERS = {"sh", "bash", "shell", "python"}
DOCUMENTED_API = "127.0.0.1:8025"


@dataclass(frozen=True, slots=True)
class Example:
    where: str
    """``README.md:42``: the file and the line of the fence."""
    lang: str
    body: str
    expect: str


def examples(paths: list[Path] = DOCS, root: Path = ROOT) -> list[Example]:
    """The marked examples of ``paths`` (named relative to ``root``), in order."""
    found: list[Example] = []
    for path in paths:
        text = path.read_text("utf-8")
        for m in MARKED.finditer(text):
            line = text.count("\n", 0, m.start("lang")) + 1  # the fence's line number
            attrs = dict(ATTR.findall(m.group("attrs")))
            found.append(
                Example(
                    f"{path.relative_to(root)}:{line}",
                    m.group("lang"),
                    m.group("body"),
                    attrs.get("expect", ""),
                )
            )
    return found


EXAMPLES = examples()


def test_the_marker_is_found_and_every_marked_example_is_runnable() -> None:
    """A marker before a fence of another language, or a marker no fence follows, is a mistake."""
    assert any(e.where.startswith("README.md") for e in EXAMPLES), "the README's quickstart is marked"
    for e in EXAMPLES:
        assert e.lang in RUNNERS, f"{e.where}: a runnable example must be sh or python, not {e.lang}"
    markers = sum(len(re.findall(r"^<!--\s*runnable\b", p.read_text("utf-8"), re.MULTILINE)) for p in DOCS)
    assert markers == len(EXAMPLES), "a <!-- runnable --> line must be followed by a fence"


def test_the_extractor_reads_attributes_and_skips_unmarked_fences(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text(
        '```sh\nnot marked\n```\n\n<!-- runnable expect="ok" -->\n```python\nprint("ok")\n```\n'
        "<!-- runnable -->\n```sh\ntrue\n```\n",
        "utf-8",
    )
    got = examples([doc], tmp_path)
    assert [(e.where, e.lang, e.body, e.expect) for e in got] == [
        ("x.md:6", "python", 'print("ok")\n', "ok"),
        ("x.md:10", "sh", "true\n", ""),
    ]


@dataclass(frozen=True, slots=True)
class Sandbox:
    cwd: Path
    env: dict[str, str]
    api: str
    """``host:port`` of the running ``mailfate serve``."""


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    home = tmp_path_factory.mktemp("docs-run")
    shim = home / "bin"
    shim.mkdir()
    command = shim / "mailfate"
    command.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m mailfate "$@"\n', "utf-8")
    command.chmod(0o755)
    (home / "examples").symlink_to(ROOT / "examples")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILFATE_")}
    env.update(
        PATH=f"{shim}{os.pathsep}{env.get('PATH', '')}",
        MAILFATE_DATA_DIR=str(home / "mailfate-data"),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
    )
    key = subprocess.run(
        ["mailfate", "keys", "create", "--scope", "send,read", "--json"],
        cwd=home, env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    env["KEY"] = json.loads(key.stdout)["key"]
    serve = subprocess.Popen(
        ["mailfate", "serve", "--http-port", "0", "--submission-port", "-1", "--inbound-port", "0", "--json"],
        cwd=home, env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert serve.stdout is not None
    try:
        line = serve.stdout.readline()
        if not line:
            pytest.fail(f"mailfate serve exited with {serve.wait(30)} before it was ready")
        api = str(json.loads(line)["http"]).removeprefix("http://").rstrip("/")
        yield Sandbox(home, env, api)
    finally:
        serve.terminate()
        serve.wait(30)
        serve.stdout.close()


@pytest.mark.skipif(not EXAMPLES, reason="no runnable example in the docs")
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.where for e in EXAMPLES])
def test_example_runs_as_written(example: Example, sandbox: Sandbox) -> None:
    if example.lang == "python":
        argv = [sys.executable, "-c", example.body]
    else:
        if "curl " in example.body and shutil.which("curl") is None:
            pytest.skip("curl is not installed")
        argv = ["bash", "-e", "-o", "pipefail", "-c", example.body.replace(DOCUMENTED_API, sandbox.api)]
    done = subprocess.run(
        argv, cwd=sandbox.cwd, env=sandbox.env, capture_output=True, text=True, timeout=120, check=False
    )
    shown = f"{example.where}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    assert done.returncode == 0, shown
    assert " ".join(example.expect.split()) in " ".join(done.stdout.split()), shown
