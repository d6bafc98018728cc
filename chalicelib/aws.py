"""boto3 clients, created lazily, with bounded standard retries (throttling and 5xx are retried)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

RETRIES = {"mode": "standard", "max_attempts": 5}


@lru_cache(maxsize=None)
def client(service: str, region: str, endpoint_url: str | None = None) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        service, region_name=region, endpoint_url=endpoint_url, config=Config(retries=RETRIES)
    )


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))
