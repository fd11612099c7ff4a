"""The dashboard's message page says which replies came from the built-in simulator, per language."""

from __future__ import annotations

import re
from typing import Any

from mailfate.model.simulated import SIMULATED_LABEL


def test_the_message_page_marks_the_simulators_replies_in_english_and_korean(
    dashboard: dict[str, Any],
) -> None:
    read = dashboard["read"]
    mid = dashboard["ids"]["ok1@accept.mailfate.test"]
    english = read.get(f"/messages/{mid}?lang=en").text
    rows = re.findall(r'<tr class="attempt delivered">.*?</tr>', english, re.DOTALL)
    assert rows, "the delivered attempt is on the timeline"
    assert all(f'<span class="simulated">({SIMULATED_LABEL["en"]})</span>' in row for row in rows)
    korean = read.get(f"/messages/{mid}?lang=ko").text
    assert f"({SIMULATED_LABEL['ko']})" in korean and SIMULATED_LABEL["en"] not in korean
    queued = re.findall(r'<tr class="queued ">.*?</tr>', english, re.DOTALL)
    assert queued and "simulated" not in queued[0]  # only a receiver's reply is marked


def test_the_recipients_table_marks_a_recipient_the_simulator_answered(dashboard: dict[str, Any]) -> None:
    mid = dashboard["ids"]["ok1@accept.mailfate.test"]
    page = dashboard["read"].get(f"/messages/{mid}?lang=en").text
    table = re.search(r'<table class="recipients">.*?</table>', page, re.DOTALL)
    assert table is not None
    [row] = re.findall(r"<tr><td>ok1@accept\.mailfate\.test.*?</tr>", table.group(0), re.DOTALL)
    assert f'<span class="simulated">({SIMULATED_LABEL["en"]})</span>' in row
