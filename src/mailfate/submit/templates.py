"""Jinja2 templates for messages: packaged ones, overlaid by the user's directories.

A template ``NAME`` in language ``LANG`` is three files in a template directory:
``NAME.LANG.subject.txt`` (one line), ``NAME.LANG.text.txt`` and, optionally,
``NAME.LANG.html``. The environment is sandboxed (templates may come from users), undefined
variables are errors (naming the variable), and HTML output is autoescaped. Templates are read
once per process (no file check per message): restart the service after editing one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from mailfate.errors import InputError

__all__ = ["Rendered", "TemplateNotFound", "render_template"]

PACKAGED = "packaged"


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str | None


def _environment(template_dirs: Sequence[Path]) -> SandboxedEnvironment:
    packaged = Path(str(resources.files("mailfate") / "data" / "templates"))
    loader = jinja2.FileSystemLoader([*(str(d) for d in template_dirs), str(packaged)])
    return SandboxedEnvironment(
        loader=loader,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,  # a template is read once per process: no stat per message sent
    )


_ENVS: dict[tuple[Path, ...], SandboxedEnvironment] = {}
_MISSING: set[tuple[tuple[Path, ...], str]] = set()
"""Template files known not to exist (an optional html part): not looked for again."""
_LOADED: dict[tuple[tuple[Path, ...], str], jinja2.Template] = {}
"""Templates loaded, by directories and file: read and compiled once per process."""


def _template(env: SandboxedEnvironment, key: tuple[Path, ...], file: str) -> jinja2.Template:
    """The template ``file`` of ``env``, loaded once. Its globals are flattened into one dict: Jinja
    keeps them as a ChainMap over the environment's, and copies them into every render's context
    — three renders a message, most of a render's cost. The environment's globals never change
    after it is made, so the copy is the same map."""
    template = _LOADED.get((key, file))
    if template is None:
        template = env.get_template(file)
        template.globals = dict(template.globals)
        if len(_LOADED) < 10_000:
            _LOADED[(key, file)] = template
    return template


class TemplateNotFound(InputError):
    """No template of that name, or not in that language (the message names what there is)."""


def render_template(
    name: str, variables: Mapping[str, Any], lang: str = "en", template_dirs: Sequence[Path] = ()
) -> Rendered:
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise InputError(f"template name {name!r}: letters, digits, - and _ only")
    if not lang.isalpha() or len(lang) > 8:
        raise InputError(f"template language {lang!r}: a language code like ko or en")
    key = tuple(template_dirs)
    env = _ENVS.get(key) or _ENVS.setdefault(key, _environment(template_dirs))
    values = dict(variables)

    def render(part: str, required: bool) -> str | None:
        file = f"{name}.{lang}.{part}"
        try:
            if (key, file) in _MISSING:
                raise jinja2.TemplateNotFound(file)
            return _template(env, key, file).render(values)
        except jinja2.TemplateNotFound:
            if len(_MISSING) < 10_000:
                _MISSING.add((key, file))
            if required:
                raise TemplateNotFound(_not_found(env, name, lang, part)) from None
            return None
        except jinja2.UndefinedError as exc:
            raise InputError(f"template {name!r}: {exc.message}; pass it in variables") from exc
        except jinja2.TemplateError as exc:
            raise InputError(f"template {name!r} ({part}): {exc}") from exc

    # The subject file's own final newline goes; any other line break came from a variable and is
    # an error, never stripped silently (it could smuggle a header in).
    subject = (render("subject.txt", True) or "").removesuffix("\n")
    if subject.splitlines() not in ([], [subject]) or "\x00" in subject:
        raise InputError(f"template {name!r}: the subject must be one line (a variable holds a line break)")
    return Rendered(subject, render("text.txt", True) or "", render("html", False))


def available(env: jinja2.Environment) -> dict[str, set[str]]:
    """Each template name the environment can load, with its languages (``NAME.LANG.text.txt``)."""
    found: dict[str, set[str]] = {}
    for file in env.list_templates(filter_func=lambda f: f.endswith(".text.txt")):
        parts = file.rsplit("/", 1)[-1].split(".")
        if len(parts) == 4:
            found.setdefault(parts[0], set()).add(parts[1])
    return found


def _not_found(env: jinja2.Environment, name: str, lang: str, part: str) -> str:
    """Which template or language is missing, with what there is instead."""
    known = available(env)
    if name not in known:
        names = ", ".join(sorted(known)) or "none"
        return (
            f"no template {name!r} (templates: {names}); "
            "a template is NAME.LANG.subject.txt and NAME.LANG.text.txt in a template directory"
        )
    if lang not in known[name]:
        return f"template {name!r} has no language {lang!r} (it has: {', '.join(sorted(known[name]))})"
    return f"template {name!r} has no {part} in language {lang!r}"
