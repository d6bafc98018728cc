"""The event class `app.on_upload` is built with: the S3 notification exactly as Lambda delivered it.

chalice's `@app.on_s3_event` wraps the handler in an EventSourceHandler that builds its `S3Event` from
`Records[0]` before the handler runs, so S3's test event, `{}` or `{"Records": []}` crashed the function
before any of our code saw them. This class reads nothing; `to_dict()` is the raw event, whatever its shape,
and chalicelib.events.s3 reads it. The decorator stays, so `chalice deploy` still creates the bucket
notification and the permission for S3 to invoke the function (and chalicelib/deploy/appinfo.py sees it).

Only chalice is imported here: app.py imports this module when every function starts.
"""

from __future__ import annotations

from typing import Any

from chalice.app import BaseLambdaEvent


class RawS3Event(BaseLambdaEvent):
    def _extract_attributes(self, event_dict: Any) -> None:
        pass
