"""The simulator configuration loader: packaged defaults, overlays, validation with fixes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mailfate.errors import ConfigError
from mailfate.simulator.config import REPLY_KEYS, _Validator, load_config


def test_packaged_defaults_serve_every_personality_domain_and_presets() -> None:
    cfg = load_config()
    assert cfg.server.hostname == "mx.mailfate.test"
    assert cfg.server.greylist_delay == 300
    assert cfg.domains["greylist.mailfate.test"].personalities == ("greylist",)
    assert cfg.domains["greylist.mailfate.test"].options["greylist"]["delay"] == 300
    assert cfg.domains["hanmail.test"] is cfg.domains["daum.test"]
    assert cfg.domains["hanmail.test"].name == "daum.test"
    assert set(cfg.replies) >= REPLY_KEYS


def test_reply_book_overlays_the_preset() -> None:
    cfg = load_config()
    default = cfg.reply_book("accept.mailfate.test").get("unknown_user")
    gmail = cfg.reply_book("gmail.test").get("unknown_user")
    assert default.text.startswith("<{rcpt}>")
    assert gmail.code == 550 and gmail.status == "5.1.1" and "NoSuchUser" in gmail.text
    assert cfg.reply_book("GMAIL.test").get("unknown_user") == gmail
    assert cfg.reply_book("gmail.test").get("greylisted") == cfg.replies["greylisted"]


def test_user_file_and_overrides_merge_tables_and_replace_arrays(tmp_path: Path) -> None:
    user = tmp_path / "sim.toml"
    user.write_text(
        '[server]\ngreylist_delay = 60\n[domains."Corp.Example"]\npersonalities = ["greylist", "accept"]\n'
        'aliases = ["corp2.example"]\n[domains."unknown-users.mailfate.test".unknown-users]\n'
        'patterns = ["^gone"]\n'
    )
    cfg = load_config(user, {"server": {"greylist_delay": 5}, "reports": {"delay": 7}})
    assert cfg.server.greylist_delay == 5
    corp = cfg.domains["corp.example"]
    assert corp.name == "corp.example" and cfg.domains["corp2.example"] is corp
    assert corp.options["greylist"] == {"delay": 5}
    unknown = cfg.domains["unknown-users.mailfate.test"].options["unknown-users"]
    assert unknown["patterns"] == ["^gone"]  # arrays replace
    assert unknown["addresses"] == ["nobody"]  # tables merge
    assert cfg.domains["late-bounce.mailfate.test"].options["late-bounce"]["delay"] == 7
    assert cfg.domains["greylist.mailfate.test"].options["greylist"]["delay"] == 5


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (
            {"domains": {"x.test": {"personalities": ["nope"]}}},
            ["x.test", "personalities", "'nope'", "known"],
        ),
        ({"replies": {"greylisted": {"code": 651}}}, ["replies.greylisted.code", "2xx-5xx"]),
        (
            {"replies": {"greylisted": {"status": "5.7.1"}}},
            ["replies.greylisted.status", 'class must be "4"'],
        ),
        ({"replies": {"greylisted": {"status": "4.7"}}}, ["replies.greylisted.status", "enhanced"]),
        ({"replies": {"greylisted": {"reason": "nonsense"}}}, ["reason", "known"]),
        ({"domains": {"x.test": {"preset": "hotmail"}}}, ["x.test", "preset", "'hotmail'"]),
        ({"server": {"greylist_delay": -1}}, ["server.greylist_delay", "between"]),
        ({"server": {"colour": "red"}}, ["server.colour", "known"]),
        ({"server": {"unknown_domains": "nowhere.test"}}, ["unknown_domains", "reject"]),
        ({"domains": {"x.test": {"aliases": ["daum.test"]}}}, ["aliases", "daum.test"]),
        ({"domains": {"x.test": {"greylst": {"delay": 1}}}}, ["greylst"]),
        ({"presets": {"gmail": {"replies": {"no_such_key": {"code": 550}}}}}, ["no_such_key"]),
        ({"domains": {"bad domain": {}}}, ["domain name"]),
    ],
)
def test_bad_values_name_the_source_key_and_fix(overrides: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(overrides=overrides)
    message = str(info.value)
    assert message.startswith("overrides:"), message
    for word in words:
        assert word in message, (word, message)


def test_errors_name_the_user_file(tmp_path: Path) -> None:
    user = tmp_path / "mine.toml"
    user.write_text('[domains."x.test"]\npersonalities = ["no-such"]\n')
    with pytest.raises(ConfigError, match=r"mine\.toml: domains\.\"?x\.test\"?\.personalities"):
        load_config(user)


def test_unparsable_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[server\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml")


def test_a_missing_reply_key_is_reported() -> None:
    data: dict[str, Any] = {"replies": {"accepted": {"code": 250, "status": "2.0.0", "text": "ok"}}}
    with pytest.raises(ConfigError, match="is missing"):
        _Validator([("replies.toml", data)]).build(data)
