"""What the app's web routes do: serve the page's files, and answer `/api/<view>` with JSON from
`chalicelib.observe` (the same data the CLI views print).

The page builds every element with textContent/setAttribute, never from HTML strings, and the responses
carry a Content-Security-Policy that allows only this origin's script and style: a name or log line that
looks like markup is shown as text, and could not run even if it were parsed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Mapping

from chalice import Response

from chalicelib.config import Settings
from chalicelib.errors import CascadeError, UnknownArtifactError
from chalicelib.observe import Observer, UnknownExecutionError, search

STATIC = Path(__file__).resolve().parent / "static"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
ASSETS = {"index.html", "app.js", "graph.js", "style.css", "favicon.svg"}
FAVICON = "favicon.svg"  # also served as /favicon.ico, where browsers look when a page names no icon
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def static_file(name: str) -> Response:
    """One of the page's own files; anything else is 404 (the name never reaches the file system)."""
    if name not in ASSETS:
        return _json({"error": f"no such file {name!r}"}, 404)
    path = STATIC / name
    return Response(body=path.read_text(encoding="utf-8"), status_code=200,
                    headers={"Content-Type": CONTENT_TYPES[path.suffix], **SECURITY_HEADERS})


def _json(data: Any, status: int = 200) -> Response:
    return Response(body=json.dumps(data, default=str), status_code=status,
                    headers={"Content-Type": "application/json", **SECURITY_HEADERS})


def _param(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise CascadeError(f"query parameter {name!r} is required, e.g. ?{name}=...")
    return value


def _partitions(text: str | None) -> dict[str, str]:
    """`region=emea,shop=7` (partition values cannot contain ',')."""
    out: dict[str, str] = {}
    for pair in filter(None, (text or "").split(",")):
        key, eq, value = pair.partition("=")
        if not eq:
            raise CascadeError(f"partition {pair!r} is not KEY=VALUE")
        out[key] = value
    return out


def _int(params: Mapping[str, str], name: str, default: int, high: int) -> int:
    try:
        value = int(params.get(name) or default)
    except ValueError as exc:
        raise CascadeError(f"query parameter {name!r} must be a whole number") from exc
    return max(1, min(value, high))


def _versions(o: Observer, p: Mapping[str, str]) -> Any:
    found = o.versions(_param(p, "artifact"), _partitions(p.get("partitions")), limit=_int(p, "limit", 50, 500))
    return [v.report() for v in found]


def _executions(o: Observer, p: Mapping[str, str]) -> Any:
    rows = o.executions(workflow=p.get("workflow") or None, status=p.get("status") or None,
                        limit=_int(p, "limit", 50, 200))
    return [r.model_dump() for r in rows]


def _execution(o: Observer, p: Mapping[str, str]) -> Any:
    """An execution, with the versions it was triggered by and read (so the page shows what each query
    input resolved to)."""
    row = o.execution(_param(p, "execution"))
    edges = [e.to_dict() for e in o.lineage_store.for_execution(row.id) if e.kind != "output"]
    return {**row.model_dump(), "edges": edges}


def _search(o: Observer, p: Mapping[str, str]) -> Any:
    return search(o, _param(p, "q"), limit=_int(p, "limit", 20, 100)).model_dump()


def _logs(o: Observer, p: Mapping[str, str]) -> Any:
    return {"execution": _param(p, "execution"), "lines": o.logs(_param(p, "execution"))}


def _lineage(o: Observer, p: Mapping[str, str]) -> Any:
    return o.lineage(_param(p, "artifact"), p.get("version") or None, depth=_int(p, "depth", 6, 20)).model_dump()


VIEWS: dict[str, Callable[[Observer, Mapping[str, str]], Any]] = {
    "artifacts": lambda o, p: [a.model_dump() for a in o.artifacts()],
    "versions": _versions,
    "version": lambda o, p: o.version_detail(_param(p, "artifact"), p.get("version") or None).model_dump(),
    "executions": _executions,
    "execution": _execution,
    "search": _search,
    "logs": _logs,
    "lineage": _lineage,
}


def api(view: str, params: Mapping[str, str] | None, observer: Observer | None = None) -> Response:
    """`GET /api/<view>?...`: 200 with JSON, 404 for an unknown view, artifact or execution, 400 for bad
    parameters."""
    handler = VIEWS.get(view)
    if handler is None:
        return _json({"error": f"no view {view!r}; views: {', '.join(sorted(VIEWS))}"}, 404)
    try:
        return _json(handler(observer or Observer.of(Settings.from_env()), params or {}))
    except (UnknownArtifactError, UnknownExecutionError) as exc:
        return _json({"error": str(exc)}, 404)
    except CascadeError as exc:
        return _json({"error": str(exc)}, 400)
