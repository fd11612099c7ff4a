"""``[inbound] keep_reports_days`` and ``keep_unmatched``: how long raw input is kept, and where."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailfate.config import load_settings
from mailfate.errors import ConfigError


def test_defaults_keep_reports_30_days_and_unmatched_mail_in_the_data_directory(tmp_path: Path) -> None:
    settings = load_settings(None, data_dir=tmp_path)
    assert (settings.keep_reports_days, settings.unmatched_dir) == (30.0, tmp_path / "unmatched")


def test_the_inbound_table_sets_them(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[inbound]\nport = 0\nkeep_reports_days = 7\nkeep_unmatched = false\n", "utf-8")
    settings = load_settings(config, data_dir=tmp_path)
    assert (settings.inbound_port, settings.keep_reports_days, settings.unmatched_dir) == (0, 7, None)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("keep_reports_days = -1\n", "keep_reports_days"),
        ('keep_unmatched = "yes"\n', "keep_unmatched"),
        ("keep_report_days = 3\n", "inbound.keep_report_days"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, names: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[inbound]\n" + text, "utf-8")
    with pytest.raises(ConfigError, match=names):
        load_settings(config)
