"""Lambda entry points. Each handler parses, calls one function, returns; the code lives in chalicelib/."""

import os

from chalice import Chalice, IAMAuthorizer

import chalicelib.deploy.guard  # noqa: F401  (plain `chalice deploy` stops here: see the module)
from chalicelib.uploads.raw_event import RawS3Event

app = Chalice(app_name="cascade")
# The REST API is served only to signed requests (SigV4); `python -m chalicelib page --stage S` signs them.
iam = IAMAuthorizer()


@app.lambda_function(name="task_runner")
def task_runner(event, context):
    from chalicelib.runtime.runner import default_runner

    return default_runner().run(event)


# Task runners of larger memory sizes (chalicelib.naming.TASK_RUNNER_SIZES, memory set in .chalice/config.json):
# a task's Task state invokes the smallest that fits its requests (chalicelib.sdk.options.runner_memory).
@app.lambda_function(name="task_runner_3008")
def task_runner_3008(event, context):
    return task_runner(event, context)


@app.lambda_function(name="task_runner_5120")
def task_runner_5120(event, context):
    return task_runner(event, context)


@app.lambda_function(name="task_runner_10240")
def task_runner_10240(event, context):
    return task_runner(event, context)


@app.on_dynamodb_record(stream_arn=os.environ.get("CASCADE_ARTIFACTS_STREAM_ARN", ""), name="on_artifact_event",
                        batch_size=100, starting_position="TRIM_HORIZON")
def on_artifact_event(event):
    from chalicelib.trigger.handler import default_trigger

    return default_trigger().handle(event.to_dict(), event.context)


@app.route("/lineage", authorizer=iam)
def lineage_page():
    from chalicelib.web import routes

    return routes.static_file("index.html")


@app.route("/lineage/{asset}", authorizer=iam)
def lineage_asset(asset):
    from chalicelib.web import routes

    return routes.static_file(asset)


@app.route("/favicon.ico")
def favicon():
    from chalicelib.web import routes

    return routes.static_file(routes.FAVICON)


@app.route("/api/{view}", authorizer=iam)
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
