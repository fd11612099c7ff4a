"""The RFC 7208 SPF test suite (openspf.org, in ../shared/corpus/spf) through mailfate's adapter.

The suite's zone data is served by an in-process ``SpfDns`` (TIMEOUT entries and over-long
labels cannot live in a real zone). The YAML is read with the system's PyYAML in a subprocess
(the project has no YAML dependency); the test is skipped when neither is available.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import spf as pyspf

from mailfate.mailauth.spf import SpfAnswer, SpfDns, check_spf

pytestmark = pytest.mark.corpus

_TO_JSON = "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))"


def _load_suite(path: Path) -> list[dict[str, Any]]:
    for python in ("/usr/bin/python3", shutil.which("python3")):
        if not python:
            continue
        out = subprocess.run([python, "-c", _TO_JSON, str(path)], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            docs: list[dict[str, Any]] = [d for d in json.loads(out.stdout) if d]
            return docs
    pytest.skip("no python3 with PyYAML to read the SPF suite")


def zone_dns(zonedata: dict[str, list[Any]]) -> SpfDns:
    """Serve the suite's zonedata the way the suite's conventions say (SPF doubles as TXT)."""
    zone: dict[str, list[Any]] = {}
    for name, records in zonedata.items():
        zone.setdefault(name.lower().rstrip("."), []).extend(records)

    def query(name: str, rtype: str, timeout: float) -> SpfAnswer:
        key = name.lower().rstrip(".")
        records = zone.get(key)
        if records is None:
            if key.startswith("error."):
                raise pyspf.TempError(f"DNS error for {name}")
            return []
        out: SpfAnswer = []
        has_txt = any(isinstance(r, dict) and "TXT" in r for r in records)
        for record in records:
            if record == "TIMEOUT":
                continue
            (rr, value), *_ = record.items()
            if rr == "CNAME":
                out.append(((name, "CNAME"), value.rstrip(".")))
                continue
            served = rtype == rr or (rtype == "TXT" and rr == "SPF" and not has_txt)
            if not served or value == "NONE":
                continue
            if rr in ("TXT", "SPF"):
                strings = value if isinstance(value, list) else [value]
                out.append(((name, rtype), tuple(s.encode("utf-8") for s in strings)))
            elif rr == "MX":
                out.append(((name, rtype), (value[0], value[1].rstrip("."))))
            else:
                out.append(((name, rtype), value))
        if not out and "TIMEOUT" in records:  # a timeout only when nothing of the type answers
            raise pyspf.TempError(f"DNS timeout for {name}")
        return out

    return query


def test_rfc7208_suite(shared_dir: Path) -> None:
    path = shared_dir / "corpus" / "spf" / "rfc7208-tests.yml"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    failures: list[str] = []
    total = 0
    for scenario in _load_suite(path):
        dns_fn = zone_dns(scenario.get("zonedata") or {})
        for test_id, case in scenario["tests"].items():
            total += 1
            expected = case["result"] if isinstance(case["result"], list) else [case["result"]]
            got = check_spf(case["host"], case["mailfrom"], case["helo"], None, dns_fn=dns_fn)
            if got.result not in expected:
                failures.append(f"{test_id}: expected {expected}, got {got.result} ({got.explanation})")
            elif case.get("explanation", "DEFAULT") != "DEFAULT" and got.explanation != case["explanation"]:
                failures.append(f"{test_id}: explanation {got.explanation!r} != {case['explanation']!r}")
    passed = total - len(failures)
    print(f"RFC 7208 suite: {passed}/{total} passed")
    assert total == 203
    assert not failures, "\n".join(failures)
