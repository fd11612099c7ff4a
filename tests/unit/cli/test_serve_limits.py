"""Per-key limits of a real ``mailfate serve`` ([limits] in the configuration): the burst passes,
then 429 with Retry-After, and another key is not held back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.unit.cli.test_serve_api import _env, run_cli


def test_api_key_over_its_rate_gets_429_with_retry_after(tmp_path: Path) -> None:
    config = tmp_path / "mailfate.toml"
    config.write_text("[limits]\napi_per_key = 0.01\napi_burst = 3\n")
    keys = [
        json.loads(run_cli(tmp_path, "keys", "create", "--scope", "send", "--json").stdout)["key"]
        for _ in range(2)
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailfate", "serve", "--data-dir", str(tmp_path), "--config", str(config),
         "--http-port", "0", "--submission-port", "-1", "--no-workers", "--json"],
        stdout=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        url = json.loads(proc.stdout.readline())["http"]
        body = {"from": "a@app.example", "to": ["b@naver.test"], "subject": "s", "text": "t"}
        with httpx.Client(base_url=url, timeout=20) as http:
            codes = [
                http.post(
                    "/v1/messages", json=body, headers={"Authorization": f"Bearer {keys[0]}"}
                ).status_code
                for _ in range(4)
            ]
            assert codes == [202, 202, 202, 429]
            refused = http.post("/v1/messages", json=body, headers={"Authorization": f"Bearer {keys[0]}"})
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
            assert "messages per second" in refused.json()["detail"]
            other = http.post("/v1/messages", json=body, headers={"Authorization": f"Bearer {keys[1]}"})
            assert other.status_code == 202
    finally:
        proc.terminate()
        proc.wait(30)
        proc.stdout.close()
