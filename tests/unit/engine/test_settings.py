"""Engine settings: TOML over defaults, environment over the file, one-line errors with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailfate.config import load_settings
from mailfate.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mailfate.toml"
    path.write_text(text, "utf-8")
    return path


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAILFATE_CONFIG", raising=False)
    monkeypatch.delenv("MAILFATE_STORE_URL", raising=False)
    monkeypatch.delenv("MAILFATE_DATA_DIR", raising=False)
    s = load_settings()
    assert s.url == str(Path("mailfate-data") / "mailfate.db")
    assert s.transport_settings(s.transport).type == "simulator"


def test_file_routes_and_transports(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
data_dir = "d"
[delivery]
transport = "relay"
concurrency = 50
[[routes]]
domain = "*.Example.COM"
transport = "sim"
[transports.relay]
type = "relay"
host = "smtp.example.net"
[transports.sim]
type = "simulator"
""",
    )
    s = load_settings(path)
    assert (s.transport, s.concurrency, s.data_dir) == ("relay", 50, Path("d"))
    assert [(r.domain, r.transport) for r in s.routes] == [("*.example.com", "sim")]
    assert s.transport_settings("relay").options["host"] == "smtp.example.net"


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[store]\nurl = "sqlite:///a.db"\n')
    monkeypatch.setenv("MAILFATE_STORE_URL", "sqlite:///b.db")
    assert load_settings(path).url == "sqlite:///b.db"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[delivery]\nconcurrency = 0\n", "concurrency = 0"),
        ("[[routes]]\ndomain = 'x'\n", "routes[0]"),
        ("[[routes]]\ndomain = 'x'\ntransport = 'nope'\n", "transports.nope"),
        ("[transports.x]\ntype = 'carrier-pigeon'\n", "transports.x.type"),
        ("[bogus]\n", "unknown key 'bogus'"),
        ("[inbound]\nport = 70000\n", "inbound.port"),
        ("not toml = = =", "not valid TOML"),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=None) as info:
        load_settings(write(tmp_path, text))
    assert needle in str(info.value)
    assert str(tmp_path) in str(info.value)


def test_verp_key_is_created_once_and_private(tmp_path: Path) -> None:
    s = load_settings(None, data_dir=tmp_path / "data")
    key = s.verp_key()
    assert len(key) == 64
    assert s.verp_key() == key
    assert (tmp_path / "data" / "verp.key").stat().st_mode & 0o777 == 0o600


def test_limits_are_read_and_checked(tmp_path: Path) -> None:
    config = tmp_path / "m.toml"
    config.write_text("[limits]\napi_per_key = 50\napi_burst = 10\nsubmission_per_key = 5\n")
    settings = load_settings(config)
    assert (settings.api_per_key, settings.api_burst, settings.submission_per_key) == (50, 10, 5)
    assert load_settings(None).api_per_key == 2000
    config.write_text("[limits]\napi_per_key = 0\n")
    with pytest.raises(ConfigError, match="api_per_key"):
        load_settings(config)
    config.write_text("[limits]\nper_user = 5\n")
    with pytest.raises(ConfigError, match=r"limits\.per_user is unknown"):
        load_settings(config)


def test_pause_marketing_is_a_flag(tmp_path: Path) -> None:
    config = tmp_path / "m.toml"
    config.write_text("[alerts]\npause_marketing = true\n")
    assert load_settings(config).pause_marketing is True
    assert load_settings(None).pause_marketing is False
    config.write_text('[alerts]\npause_marketing = "yes"\n')
    with pytest.raises(ConfigError, match="true or false"):
        load_settings(config)


def test_template_folders_come_before_the_data_directorys(tmp_path: Path) -> None:
    s = load_settings(
        write(tmp_path, '[templates]\ndirs = ["mail/templates", "/srv/shared"]\n'), data_dir=tmp_path
    )
    assert s.templates == (Path("mail/templates"), Path("/srv/shared"), tmp_path / "templates")
    assert load_settings(data_dir=tmp_path).templates == (tmp_path / "templates",)


@pytest.mark.parametrize("text", ['dirs = "one"', "dirs = [1]", 'dirs = [""]', 'folder = ["x"]'])
def test_template_folders_out_of_shape_are_one_clear_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match=r"\[templates\] takes dirs"):
        load_settings(write(tmp_path, f"[templates]\n{text}\n"))
