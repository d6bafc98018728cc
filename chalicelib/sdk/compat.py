"""flytekit keywords and constructs: what each one means here, decided in one place.

Every keyword flytekit's `@task` takes is accepted or refused *at definition* with a DefinitionError that says
why and what to do instead; none is silently dropped. Keywords that have no effect on AWS Lambda are accepted
and reported as warnings when the task is registered (see `task_warnings`). Constructs that need a runtime
we do not have (`@eager`, reference entities, ...) are importable, and raise a DefinitionError when
used, so a ported file fails at import with a message instead of an AttributeError.
"""

from __future__ import annotations

import enum
import html as _html
import inspect
import sys
from typing import Any, Callable, NoReturn

from msgspec import Struct

from chalicelib.errors import DefinitionError
from chalicelib.sdk.options import check_task_options
from chalicelib.sdk.task import TaskDef
from chalicelib.sdk.control import conditional
from chalicelib.sdk.dynamic import dynamic
from chalicelib.sdk.gates import approve, sleep, wait_for_input
from chalicelib.sdk.mapping import map_task
from chalicelib.sdk.task import task as _task

LAUNCH_PLAN_NO_EFFECT = {
    "labels": "not attached to executions",
    "annotations": "not attached to executions",
    "raw_output_data_config": "outputs go to the stage's bucket",
    "max_parallelism": "independent tasks all run at once (a Parallel state)",
    "security_context": "executions run with the stage's IAM roles",
    "auth_role": "executions run with the stage's IAM roles",
    "overwrite_cache": "not honoured: clear a task's entries with `python -m chalicelib cache clear --task T`",
    "auto_activate": "a launch plan with a trigger or a schedule is active when registered",
    "concurrency": "every triggered run starts",
}
LAUNCH_PLAN_REFUSED: dict[str, str] = {}  # schedule= and notifications= are supported (sdk/schedules.py, sdk/notifications.py)


def check_launch_plan_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    kept = {}
    for key, value in options.items():
        if value is None:
            continue
        if key in LAUNCH_PLAN_REFUSED:
            raise DefinitionError(f"launch plan {name!r}: {key}= is not supported: {LAUNCH_PLAN_REFUSED[key]}")
        if key not in LAUNCH_PLAN_NO_EFFECT:
            known = ["default_inputs", "fixed_inputs", "trigger", "schedule", "notifications", *LAUNCH_PLAN_NO_EFFECT]
            raise DefinitionError(f"launch plan {name!r}: unknown keyword {key}=; LaunchPlan accepts {', '.join(known)}")
        kept[key] = value
    return kept


def launch_plan_warnings(name: str, options: dict[str, Any]) -> list[str]:
    return [f"launch plan {name!r}: {k}= has no effect here: {LAUNCH_PLAN_NO_EFFECT[k]}" for k in options
            if k in LAUNCH_PLAN_NO_EFFECT and k != "auto_activate"]


# -- constructs that need a runtime we do not have --------------------------------------------------------
UNSUPPORTED = {
    "eager": "@eager workflows are not supported: an eager body awaits task results in Python while it runs, "
             "which a state machine cannot do; use @dynamic (its body is traced when it runs, with its inputs' "
             "values) or conditional(...) to branch on a task's result",
    "reference_task": "reference tasks are not supported: import the task's module instead",
    "reference_launch_plan": "reference launch plans are not supported: trigger the other workflow from an artifact",
    "reference_workflow": "reference workflows are not supported: import the workflow's module instead",
    "ContainerTask": "ContainerTask is not supported: tasks are Python functions run in Lambda",
    "ShellTask": "ShellTask is not supported: run the command with subprocess inside a @task",
}


def _refuse(name: str) -> Callable[..., NoReturn]:
    def refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
        raise DefinitionError(UNSUPPORTED[name])

    refuse.__name__ = refuse.__qualname__ = name
    refuse.__doc__ = UNSUPPORTED[name]
    return refuse


class _RefusedClass:
    """Importable, so that a ported file fails where the construct is used, with the reason."""

    _name = ""

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        raise DefinitionError(UNSUPPORTED[self._name])

    def __class_getitem__(cls, _item: Any) -> type:
        return cls


def _refused_class(name: str) -> type:
    return type(name, (_RefusedClass,), {"_name": name, "__doc__": UNSUPPORTED[name]})


eager = _refuse("eager")
reference_task = _refuse("reference_task")
reference_launch_plan = _refuse("reference_launch_plan")
reference_workflow = _refuse("reference_workflow")
ContainerTask = _refused_class("ContainerTask")
ShellTask = _refused_class("ShellTask")


class Labels(dict):
    """flytekit.models.common.Labels: accepted on launch plans, with no effect (registration says so)."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        super().__init__(values or {})


class Annotations(Labels):
    """flytekit.models.common.Annotations: accepted on launch plans, with no effect (registration says so)."""


class ActorEnvironment:
    """Union's actors, supported differently: `@actor.task` is a plain task. Lambda keeps a warm container per
    concurrent invocation and reuses it, so module-level state (a loaded model) is reused much as on an actor;
    `replica_count` and `ttl_seconds` have no effect. The environment's image and keywords apply to its tasks."""

    def __init__(self, name: str, container_image: Any = None, replica_count: int = 1, ttl_seconds: int | None = None,
                 **task_options: Any) -> None:
        self.name, self.container_image = name, container_image
        self.replica_count, self.ttl_seconds = replica_count, ttl_seconds
        check_task_options(f"actor {name}", task_options)
        self.task_options = task_options

    def task(self, _fn: Callable[..., Any] | None = None, **options: Any) -> Any:
        decorate = _task(container_image=self.container_image, **{**self.task_options, **options})
        return decorate if _fn is None else decorate(_fn)


class Deck:
    """flytekit's Deck, supported differently: decks are not rendered. Each one prints a line in the task's
    logs saying so (name and size), so a ported task keeps working and nothing is dropped without notice."""

    def __init__(self, name: str, html: str | None = "", auto_add_to_deck: bool = True) -> None:
        self.name = name
        self.html = html or ""
        print(f"[deck {name!r} not rendered: {len(self.html)} characters of HTML]")

    def append(self, html: str) -> Deck:
        self.html += html
        print(f"[deck {self.name!r} not rendered: {len(html)} more characters of HTML]")
        return self

    def publish(self) -> None:
        """flytekit writes the deck file here; decks are not rendered, so there is nothing to write."""


# -- flytekit.deck renderers: they make the HTML a Deck would show (decks are not rendered here) ----------
class MarkdownRenderer:
    """flytekit.deck.MarkdownRenderer. The text is kept as written, in a <pre> block (no Markdown library)."""

    def to_html(self, text: str) -> str:
        return f"<pre>{_html.escape(str(text))}</pre>"


class SourceCodeRenderer:
    """flytekit.deck.SourceCodeRenderer: the source, escaped, in a <pre> block."""

    def __init__(self, title: str = "Source Code") -> None:
        self.title = title

    def to_html(self, source_code: str) -> str:
        return f"<h3>{_html.escape(self.title)}</h3><pre>{_html.escape(str(source_code))}</pre>"


class TopFrameRenderer:
    """flytekit.deck.TopFrameRenderer: the first `max_rows` rows of a DataFrame as an HTML table."""

    def __init__(self, max_rows: int = 10, max_cols: int = 100) -> None:
        self.max_rows, self.max_cols = max_rows, max_cols

    def to_html(self, df: Any) -> str:
        return df.head(self.max_rows).iloc[:, : self.max_cols].to_html()


class TableRenderer:
    """flytekit.deck.renderer.TableRenderer: a DataFrame as an HTML table."""

    def to_html(self, df: Any, header_labels: list[str] | None = None, table_width: int | None = None) -> str:
        return df.to_html(header=header_labels if header_labels is not None else True)


class FrameProfilingRenderer:
    """flytekitplugins.deck's FrameProfilingRenderer, supported differently: pandas' summary of every column
    (ydata-profiling is not in the Lambda package)."""

    def __init__(self, title: str = "Pandas Profiling Report") -> None:
        self.title = title

    def to_html(self, df: Any) -> str:
        return f"<h3>{_html.escape(self.title)}</h3>" + df.describe(include="all").to_html()


class BoxRenderer:
    """flytekitplugins.deck's BoxRenderer, supported differently: the column's quartiles as a table (no plotly)."""

    def __init__(self, column_name: str) -> None:
        self.column_name = column_name

    def to_html(self, df: Any) -> str:
        return df[[self.column_name]].describe().to_html()


class ImageRenderer:
    """flytekitplugins.deck's ImageRenderer: an image file (or bytes of PNG) as an inline <img>."""

    def to_html(self, image_src: Any) -> str:
        import base64

        data = image_src if isinstance(image_src, bytes) else open(str(image_src), "rb").read()
        return f'<img src="data:image/png;base64,{base64.b64encode(data).decode()}" alt="image">'


# -- small flytekit objects that have no effect on Lambda --------------------------------------------------
class WorkflowFailurePolicy(enum.Enum):
    """flytekit's `@workflow(failure_policy=...)` values; accepted, no effect (see WORKFLOW_NO_EFFECT)."""

    FAIL_IMMEDIATELY = 0
    FAIL_AFTER_EXECUTABLE_NODES_COMPLETE = 1


class ConcurrencyLimitBehavior:
    """flytekit.models.concurrency.ConcurrencyLimitBehavior."""

    SKIP = 1


class ConcurrencyPolicy(Struct, frozen=True):
    """flytekit's `LaunchPlan(concurrency=ConcurrencyPolicy(max_concurrency=1))`: accepted; every triggered run
    starts (registration says so)."""

    max_concurrency: int = 1
    behavior: Any = ConcurrencyLimitBehavior.SKIP


class Description(Struct, frozen=True):
    """flytekit.models.documentation.Description, for `docs=Documentation(...)`: kept in the code only."""

    value: str | None = None
    uri: str | None = None
    icon_link: str | None = None
    format: Any = None


class SourceCode(Struct, frozen=True):
    link: str | None = None


class Documentation(Struct, frozen=True):
    """flytekit's `@task(docs=Documentation(...))` / `@workflow(docs=...)`: kept in the code only."""

    short_description: str | None = None
    long_description: Description | None = None
    source_code: SourceCode | None = None


class PodTemplate:
    """flytekit.PodTemplate, supported differently: tasks run in Lambda, not in pods. Accepted (also as
    `@task(pod_template=...)`), and registration says it has no effect."""

    def __init__(self, pod_spec: Any = None, primary_container_name: str = "primary",
                 labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None) -> None:
        self.pod_spec, self.primary_container_name = pod_spec, primary_container_name
        self.labels, self.annotations = labels or {}, annotations or {}


class Echo(TaskDef):
    """flytekit's echo task: `Echo(name="echo", inputs={"a": int})` returns its input unchanged. It runs in the
    task runner like any task (flytekit's echo plugin skips the pod; a Lambda invocation is as cheap).

    The task runner finds a task by module and name, so the Echo is also reachable in its defining module under
    `name` (unless that name is taken by something else, which is refused)."""

    def __init__(self, name: str, inputs: dict[str, Any] | None = None, **_kwargs: Any) -> None:
        inputs = dict(inputs or {})
        if not isinstance(name, str) or not name.isidentifier():
            raise DefinitionError(f"Echo(name={name!r}): the name must be a Python identifier, e.g. 'echo'")
        if len(inputs) > 1:
            raise DefinitionError(
                f"Echo {name!r} has {len(inputs)} inputs, so it would return several outputs, which are not "
                f"supported; echo one value (a dict or a dataclass holds several)")
        caller = sys._getframe(1).f_globals
        module = caller.get("__name__", "__main__")

        def echo(**values: Any) -> Any:
            return next(iter(values.values()), None)

        echo.__name__ = echo.__qualname__ = name
        echo.__module__ = module
        params = [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, annotation=t) for k, t in inputs.items()]
        ret = next(iter(inputs.values())) if inputs else None
        echo.__signature__ = inspect.Signature(params, return_annotation=ret)  # type: ignore[attr-defined]
        echo.__annotations__ = {**inputs, "return": ret}
        super().__init__(echo)
        taken = caller.get(name)
        if taken is not None and not isinstance(taken, Echo):
            raise DefinitionError(
                f"Echo(name={name!r}): module {module!r} already defines {name!r}; give the Echo another name")
        caller.setdefault(name, self)



# -- @workflow keywords -----------------------------------------------------------------------------------
WORKFLOW_NO_EFFECT = {
    "failure_policy": "a failed task fails the execution at once; tasks already running in parallel finish",
    "interruptible": "Lambda invocations are not preemptible",
    "docs": "kept in the code only",
    "pickle_untyped": "untyped values travel as JSON",
    "default_options": "executions run with the stage's settings",
}
WORKFLOW_REFUSED = {
    "on_failure": "failure handlers are not supported: subscribe to Step Functions execution events "
                  "(EventBridge) to react to a failed execution",
}


def check_workflow_options(options: dict[str, Any]) -> None:
    for key, value in options.items():
        if key in WORKFLOW_REFUSED and value is not None:
            raise DefinitionError(f"@workflow({key}=...) is not supported: {WORKFLOW_REFUSED[key]}")
        if key not in WORKFLOW_NO_EFFECT and key not in WORKFLOW_REFUSED:
            raise DefinitionError(
                f"@workflow: unknown keyword {key}=; it accepts {', '.join([*WORKFLOW_NO_EFFECT, *WORKFLOW_REFUSED])}"
            )
