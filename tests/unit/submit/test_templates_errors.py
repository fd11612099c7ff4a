"""A template or language that is not there is an error that lists what is."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailfate.errors import InputError
from mailfate.submit.templates import render_template


def test_an_unknown_template_lists_the_templates() -> None:
    with pytest.raises(InputError, match=r"no template 'welcome' \(templates: verification-code\)"):
        render_template("welcome", {}, "en")


def test_an_unknown_language_lists_the_template_s_languages() -> None:
    with pytest.raises(InputError, match=r"has no language 'fr' \(it has: en, ko\)"):
        render_template("verification-code", {"code": "1"}, "fr")


def test_a_user_s_templates_are_listed_beside_the_packaged_ones(tmp_path: Path) -> None:
    (tmp_path / "welcome.ja.subject.txt").write_text("ようこそ\n", "utf-8")
    (tmp_path / "welcome.ja.text.txt").write_text("{{ name }}\n", "utf-8")
    assert render_template("welcome", {"name": "x"}, "ja", [tmp_path]).subject == "ようこそ"
    with pytest.raises(InputError, match=r"has no language 'en' \(it has: ja\)"):
        render_template("welcome", {"name": "x"}, "en", [tmp_path])
    with pytest.raises(InputError, match="templates: verification-code, welcome"):
        render_template("nope", {}, "en", [tmp_path])
