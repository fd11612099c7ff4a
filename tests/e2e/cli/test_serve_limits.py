"""Per-key limits of a real ``mailfate serve`` ([limits] in the configuration): the burst passes,
then 429 with Retry-After, and another key is not held back."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.support.serve import mailfate, running


def test_api_key_over_its_rate_gets_429_with_retry_after(tmp_path: Path) -> None:
    config = tmp_path / "mailfate.toml"
    config.write_text("[limits]\napi_per_key = 0.01\napi_burst = 3\n")
    keys = [
        json.loads(
            mailfate("keys", "create", "--scope", "send", "--json", "--data-dir", str(tmp_path)).stdout
        )["key"]
        for _ in range(2)
    ]
    args = ["serve", "--data-dir", str(tmp_path), "--config", str(config), "--http-port", "0"]
    with running(*args, "--submission-port", "-1", "--no-workers") as ready:
        body = {"from": "a@app.example", "to": ["b@naver.test"], "subject": "s", "text": "t"}
        with httpx.Client(base_url=ready["http"], timeout=20) as http:
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
