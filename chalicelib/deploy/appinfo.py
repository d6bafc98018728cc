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


def describe(app: Any) -> AppInfo:
    names = [fn.name for fn in app.pure_lambda_functions] + [src.name for src in app.event_sources]
    if app.routes:
        names.append("api_handler")  # chalice serves every route from one function
    s3 = [S3Handler(function=src.name, bucket=src.bucket, prefix=src.prefix, suffix=src.suffix, events=src.events)
          for src in app.event_sources if type(src).__name__ == "S3EventConfig"]
    return AppInfo(app_name=app.app_name, functions=sorted(set(names)), s3_handlers=s3)


def app_info(project: Path) -> AppInfo:
    """Import the project's app.py as chalice does (project root first on sys.path), describe it, and leave
    sys.path and any previously imported `app` module as they were."""
    root = str(project.resolve())
    saved_path, saved_app = list(sys.path), sys.modules.pop("app", None)
    sys.path.insert(0, root)
    try:
        return describe(importlib.import_module("app").app)
    finally:
        sys.path[:] = saved_path
        sys.modules.pop("app", None)
        if saved_app is not None:
            sys.modules["app"] = saved_app
