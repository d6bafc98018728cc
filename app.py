"""Lambda entry points. Each handler parses, calls one function, returns; the code lives in chalicelib/."""

import os

from chalice import Chalice

from chalicelib.uploads.raw_event import RawS3Event

app = Chalice(app_name="cascade")


@app.lambda_function(name="task_runner")
def task_runner(event, context):
    from chalicelib.runtime.runner import default_runner

    return default_runner().run(event)


@app.on_dynamodb_record(stream_arn=os.environ.get("CASCADE_ARTIFACTS_STREAM_ARN", ""), name="on_artifact_event",
                        batch_size=100, starting_position="TRIM_HORIZON")
def on_artifact_event(event):
    from chalicelib.trigger.handler import default_trigger

    return default_trigger().handle(event.to_dict(), event.context)


@app.route("/lineage")
def lineage_page():
    from chalicelib.web import routes

    return routes.static_file("index.html")


@app.route("/lineage/{asset}")
def lineage_asset(asset):
    from chalicelib.web import routes

    return routes.static_file(asset)


@app.route("/api/{view}")
def api(view):
    from chalicelib.web import routes

    return routes.api(view, app.current_request.query_params)


@app.on_s3_event(bucket=os.environ.get("CASCADE_BUCKET", ""), events=["s3:ObjectCreated:*"], prefix="uploads/",
                 name="on_upload")
def on_upload(event):
    from chalicelib.uploads.handler import default_uploads

    return default_uploads().handle(event.to_dict())


# chalice's S3Event reads Records[0] before the handler runs (S3's test event or `{}` crashed there); this
# class keeps the raw event for the handler to read (chalicelib/uploads/raw_event.py)
on_upload.event_class = RawS3Event


@app.lambda_function(name="on_schedule")
def on_schedule(event, context):
    from chalicelib.schedule.handler import default_scheduler

    return default_scheduler().handle(event)
