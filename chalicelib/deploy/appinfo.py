"""What app.py declares: the Lambda functions chalice will deploy, and the S3 notifications it will set."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel


class S3Handler(BaseModel):
    function: str
    bucket: str
    prefix: str | None = None
    suffix: str | None = None
    events: list[str]


class AppInfo(BaseModel):
    app_name: str
    functions: list[str]  # chalice function names, without the `<app>-<stage>-` prefix
    s3_handlers: list[S3Handler]


def load_app(project: Path) -> Any:
    """Import the project's app.py the way chalice does (project root first on sys.path)."""
    root = str(project.resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    module = sys.modules.get("app")
    if module is not None and Path(getattr(module, "__file__", "") or "").resolve().parent != project.resolve():
        del sys.modules["app"]
    return importlib.import_module("app").app


def app_info(project: Path) -> AppInfo:
    app = load_app(project)
    names = [fn.name for fn in app.pure_lambda_functions] + [src.name for src in app.event_sources]
    s3 = [S3Handler(function=src.name, bucket=src.bucket, prefix=src.prefix, suffix=src.suffix, events=src.events)
          for src in app.event_sources if type(src).__name__ == "S3EventConfig"]
    return AppInfo(app_name=app.app_name, functions=sorted(set(names)), s3_handlers=s3)
