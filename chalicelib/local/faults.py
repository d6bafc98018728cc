"""Fault injection for tests and benchmarks: AWS calls fail inside botocore, as they do under load.

`FaultInjector.attach(client)` hooks botocore's event system of a client; none of our own code is replaced,
and botocore's own retry handler decides whether and how often to retry. Two kinds of fault:

  rejected  the request never reaches the service and the caller gets a throttling or 5xx error response
            (`before-send`). The request is diverted to an unroutable URL first, so that no later
            `before-send` handler (moto's stub in the local cloud) executes it either.
  lost      the service executes the request, then its response is replaced by a 5xx (`needs-retry`),
            as when a connection drops after a write: the retry meets the effect of its first attempt.

Retry back-off sleeps are scaled by `time_scale` so that a test can run thousands of faulted calls; attempt
counts, retry quotas and which errors are retried stay botocore's standard-mode rules.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from typing import Any, Iterable

# Operations faulted by default: the calls the trigger and the task runner make on every event.
DEFAULT_OPERATIONS = ("StartExecution", "PutItem", "TransactWriteItems", "Query", "PutObject", "GetObject")
# Writes whose effect can land before the response is lost; reads are only rejected.
LOSABLE = {"StartExecution", "PutItem", "TransactWriteItems", "PutObject"}
DIVERTED_URL = "https://fault-injected.invalid/"


class _Raw:
    """The `raw` body of a botocore AWSResponse."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterable[bytes]:
        yield self.body

    def read(self, *_: Any, **__: Any) -> bytes:
        return self.body


def _error_body(protocol: str, code: str, message: str) -> tuple[dict[str, str], bytes]:
    if protocol == "rest-xml":
        body = f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault</RequestId></Error>"
        return {"content-type": "application/xml", "x-amz-request-id": "fault"}, body.encode()
    return ({"content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "fault"},
            json.dumps({"__type": code, "message": message}).encode())


def _throttle(service: str) -> tuple[int, str]:
    if service == "s3":
        return 503, "SlowDown"
    if service == "dynamodb":
        return 400, "ProvisionedThroughputExceededException"
    return 400, "ThrottlingException"


def _server_error(service: str) -> tuple[int, str]:
    return (500, "InternalError") if service == "s3" else (500, "InternalServerError")


class FaultInjector:
    """Fail a share `rate` of the attempts of `operations`, on every client it is attached to.

    `lost_share` of the faults on writes are "lost" (executed, then answered with a 5xx); the rest are
    "rejected", half throttling and half 5xx. Counters: `injected` (by kind and by operation), `attempts`,
    `retries` (botocore retries of calls that completed, summed from their RetryAttempts) and `surfaced`
    (calls that still failed with an injected error after botocore gave up)."""

    def __init__(self, rate: float, operations: Iterable[str] = DEFAULT_OPERATIONS, lost_share: float = 0.3,
                 seed: int | None = None, time_scale: float = 0.001) -> None:
        self.rate = rate
        self.operations = set(operations)
        self.lost_share = lost_share
        self.time_scale = time_scale
        self.enabled = True
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._attached: list[Any] = []
        self.injected: Counter[str] = Counter()
        self.by_operation: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()
        self.retries = 0
        self.surfaced = 0
        self.codes: set[str] = set()
        self._script: dict[str, list[str | None]] = {}

    # -- wiring -----------------------------------------------------------------------------------
    def attach(self, *clients: Any) -> FaultInjector:
        for client in clients:
            if any(c is client for c in self._attached):
                continue
            sid = client.meta.service_model.service_id.hyphenize()
            events = client.meta.events
            events.register_first(f"before-send.{sid}", self._before_send, unique_id=f"faults-send-{id(self)}")
            events.register_first(f"needs-retry.{sid}", self._needs_retry, unique_id=f"faults-retry-{id(self)}")
            events.register(f"after-call.{sid}", self._after_call, unique_id=f"faults-after-{id(self)}")
            self._scale_backoff(client, sid, int(client.meta.config.retries.get("total_max_attempts", 3)))
            self._attached.append(client)
        return self

    def detach(self) -> None:
        for client in self._attached:
            sid = client.meta.service_model.service_id.hyphenize()
            events = client.meta.events
            events.unregister(f"before-send.{sid}", unique_id=f"faults-send-{id(self)}")
            events.unregister(f"needs-retry.{sid}", unique_id=f"faults-retry-{id(self)}")
            events.unregister(f"after-call.{sid}", unique_id=f"faults-after-{id(self)}")
        self._attached.clear()

    def _scale_backoff(self, client: Any, sid: str, max_attempts: int) -> None:
        """Re-register botocore's standard retry handler with the client's attempt limit and scaled sleeps."""
        from botocore.retries import quota, standard

        events = client.meta.events
        events.unregister(f"needs-retry.{sid}", unique_id=f"retry-config-{sid}")
        scale = self.time_scale
        quota_checker = standard.RetryQuotaChecker(quota.RetryQuota())
        events.register(f"after-call.{sid}", quota_checker.release_retry_quota, unique_id=f"faults-quota-{sid}")
        handler = standard.RetryHandler(
            retry_policy=standard.RetryPolicy(
                retry_checker=standard.StandardRetryConditions(max_attempts=max_attempts),
                retry_backoff=standard.ExponentialBackoff(random=lambda: random.random() * scale),
            ),
            retry_event_adapter=standard.RetryEventAdapter(),
            retry_quota=quota_checker,
        )
        events.register(f"needs-retry.{sid}", handler.needs_retry, unique_id=f"retry-config-{sid}")

    # -- decisions --------------------------------------------------------------------------------
    def script(self, operation: str, *kinds: str | None) -> FaultInjector:
        """Fault the next attempts of `operation` exactly so ("lost", "throttled", "server_error", or None for
        no fault), before the random rate applies again."""
        with self._lock:
            self._script.setdefault(operation, []).extend(kinds)
        return self

    def _roll(self, operation: str) -> str | None:
        with self._lock:
            self.attempts[operation] += 1
            if not self.enabled:
                return None
            if self._script.get(operation):
                kind = self._script[operation].pop(0)
                if kind is None:
                    return None
            elif operation not in self.operations or self._random.random() >= self.rate:
                return None
            elif operation in LOSABLE and self._random.random() < self.lost_share:
                kind = "lost"
            else:
                kind = "throttled" if self._random.random() < 0.5 else "server_error"
            self.injected[kind] += 1
            self.by_operation[operation] += 1
            return kind

    @property
    def total_injected(self) -> int:
        return sum(self.injected.values())

    # -- hooks ------------------------------------------------------------------------------------
    def _before_send(self, request: Any, event_name: str = "", **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        _, service, operation = event_name.split(".", 2)
        self._local.lose = None
        kind = self._roll(operation)
        if kind is None:
            return None
        status, code = _server_error(service) if kind != "throttled" else _throttle(service)
        if kind == "lost":
            self._local.lose = (status, code)
            return None
        self.codes.add(code)
        request.url = DIVERTED_URL  # no later handler (moto's stub) and no network sees this attempt
        protocol = "rest-xml" if service == "s3" else "json"
        headers, body = _error_body(protocol, code, f"injected fault ({kind}) on {operation}")
        return AWSResponse(DIVERTED_URL, status, headers, _Raw(body))

    def _needs_retry(self, response: Any = None, **_: Any) -> None:
        lose, self._local.lose = getattr(self._local, "lose", None), None
        if lose is None or response is None:
            return None
        http, parsed = response
        status, code = lose
        self.codes.add(code)
        http.status_code = status
        meta = parsed.get("ResponseMetadata", {})
        meta["HTTPStatusCode"] = status
        parsed.clear()
        parsed.update({"Error": {"Code": code, "Message": "injected fault (lost) after the request was applied"},
                       "ResponseMetadata": meta})
        return None

    def _after_call(self, http_response: Any = None, parsed: Any = None, **_: Any) -> None:
        parsed = parsed or {}
        with self._lock:
            self.retries += int(parsed.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0)
            if http_response is not None and http_response.status_code >= 300 \
                    and parsed.get("Error", {}).get("Code") in self.codes:
                self.surfaced += 1

    def summary(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "attempts": sum(self.attempts[op] for op in self.operations),
            "injected": dict(self.injected),
            "injected_total": self.total_injected,
            "by_operation": dict(self.by_operation),
            "retries": self.retries,
            "surfaced": self.surfaced,
        }
