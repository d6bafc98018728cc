"""boto3 clients, created lazily, with bounded standard retries (throttling and 5xx are retried)."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

# 5 attempts in all (the first + 4 retries). botocore rewrites the dict it is given, so each client gets a copy.
RETRIES = {"mode": "standard", "total_max_attempts": 5}


_loader_lock = threading.Lock()


@lru_cache(maxsize=1)
def _loader() -> Any:
    """botocore's data loader, shared by every session of the process: it caches the parsed service models and
    endpoint rules, which a new session would otherwise read and parse again (about 0.3 s per client)."""
    from botocore.loaders import create_loader

    return create_loader()


def session() -> Any:
    """A boto3 session of its own (credentials and settings resolved from the environment as it is now),
    sharing the process's parsed service models."""
    import boto3
    import botocore.session

    with _loader_lock:  # sessions are not thread-safe while they are set up
        core = botocore.session.Session()
        core.register_component("data_loader", _loader())
        return boto3.session.Session(botocore_session=core)


@lru_cache(maxsize=None)
def client(service: str, region: str, endpoint_url: str | None = None) -> Any:
    """The process's client of `service` in `region`, of a session of its own."""
    from botocore.config import Config

    return session().client(service, region_name=region, endpoint_url=endpoint_url,
                            config=Config(retries=dict(RETRIES)))


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


# Error codes botocore's standard mode retries as throttling, plus 5xx codes: still failing after the client's
# attempts means the service is overloaded, not that the request is wrong.
TRANSIENT_CODES = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
    "ProvisionedThroughputExceededException", "RequestLimitExceeded", "SlowDown", "RequestThrottled",
    "InternalError", "InternalServerError", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException",
    "ConditionalRequestConflict",  # S3: a concurrent conditional write of the same key is in flight
}


def is_transient(exc: BaseException) -> bool:
    """True for AWS errors worth retrying later: throttling and 5xx (after botocore's own retries)."""
    if error_code(exc) in TRANSIENT_CODES:
        return True
    status = (getattr(exc, "response", None) or {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    return isinstance(status, int) and status >= 500
