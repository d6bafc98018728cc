"""`@task`: a Python function that runs in the task-runner Lambda. Decorating records; it does not act."""

from __future__ import annotations

import inspect
import typing
from typing import Any, Callable

from msgspec import Struct

from chalicelib.errors import DefinitionError, TaskFailedError
from chalicelib.sdk.artifact import Artifact, ArtifactSpec, InputRef
from chalicelib.sdk import options as task_options, tracing


class OutputDef(Struct, frozen=True):
    name: str
    type: Any
    artifact: ArtifactSpec | None


class InputDef(Struct, frozen=True):
    name: str
    type: Any
    has_default: bool
    default: Any = None


def _split_annotation(annotation: Any) -> tuple[Any, ArtifactSpec | None]:
    """`Annotated[T, A(...)]` or `Annotated[T, A]` → (T, spec); anything else → (annotation, None)."""
    if typing.get_origin(annotation) is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        for extra in extras:
            if isinstance(extra, ArtifactSpec):
                return base, extra
            if isinstance(extra, Artifact):
                return base, extra()
        return base, None
    return annotation, None


def is_named_tuple(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields")


def outputs_of(ret: Any) -> tuple[list[OutputDef], str | None]:
    """A return annotation as outputs, named as flytekit names them: `-> T` is o0, `-> Tuple[T, U]` is o0 and
    o1, a `typing.NamedTuple` gives its field names (and its name, so one field still makes a tuple)."""
    if ret is None or ret is type(None):
        return [], None
    base, spec = _split_annotation(ret)
    if is_named_tuple(base):
        try:
            fields = typing.get_type_hints(base, include_extras=True)
        except Exception:
            fields = getattr(base, "__annotations__", {})
        outs = []
        for name in base._fields:
            t, s = _split_annotation(fields.get(name, Any))
            outs.append(OutputDef(name, t, s))
        return outs, base.__name__
    if typing.get_origin(base) is tuple and spec is None:
        args = typing.get_args(base)
        if args and Ellipsis not in args and args != ((),):
            return [OutputDef(f"o{i}", *_split_annotation(a)) for i, a in enumerate(args)], None
    return [OutputDef("o0", base, spec)], None


def signature_of(fn: Callable[..., Any], kind: str) -> tuple[list[InputDef], list[OutputDef]]:
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:  # unresolvable forward references and the like
        raise DefinitionError(f"{kind} {fn.__qualname__!r}: cannot read its type hints: {exc}") from exc
    inputs = []
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise DefinitionError(f"{kind} {fn.__qualname__!r}: *args and **kwargs are not supported")
        has_default = param.default is not inspect.Parameter.empty
        default = param.default if has_default else None
        if isinstance(default, Artifact):  # `data: T = A` means the latest version of A
            default = default.as_default(f"{kind} {fn.__qualname__!r}, input {param.name!r}")
        inputs.append(InputDef(param.name, hints.get(param.name, Any), has_default, default))
    outputs, _ = outputs_of(hints.get("return", None))
    names = {i.name for i in inputs}
    for out in outputs:
        spec = out.artifact
        if spec is None:
            continue
        for ref in [*spec.partitions.values(), spec.time_partition]:
            if isinstance(ref, InputRef) and ref.name not in names:
                raise DefinitionError(
                    f"{kind} {fn.__qualname__!r}: output artifact {spec.artifact.name!r} binds "
                    f"Inputs.{ref.name}, but the {kind} has no input {ref.name!r}; inputs are {sorted(names)}"
                )
    return inputs, outputs


def output_tuple_name(fn: Callable[..., Any]) -> str | None:
    """The name of a `typing.NamedTuple` return type (flytekit keeps a one-field NamedTuple a tuple)."""
    try:
        ret = typing.get_type_hints(fn, include_extras=True).get("return")
    except Exception:
        return None
    return outputs_of(ret)[1]


def split_result(outputs: list[OutputDef], tuple_name: str | None, result: Any, where: str) -> dict[str, Any]:
    """A function's return value by output name (several outputs come back as a tuple, as in flytekit)."""
    if not outputs:
        return {}
    if len(outputs) == 1 and not tuple_name:
        return {outputs[0].name: result}
    if not isinstance(result, tuple) or len(result) != len(outputs):
        got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        raise TaskFailedError(f"{where} declares {len(outputs)} outputs {[o.name for o in outputs]} and must return "
                              f"a tuple of {len(outputs)} values; it returned {got}")
    return {o.name: v for o, v in zip(outputs, result)}



def bind_inputs(what: str, inputs: list[InputDef], args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """A call's arguments by input name (positional ones in declaration order), checked like Python checks a call;
    `what` names the task or subworkflow in the messages."""
    if len(args) > len(inputs):
        raise DefinitionError(f"{what} takes {len(inputs)} inputs; got {len(args)} positional")
    bound = {inputs[i].name: arg for i, arg in enumerate(args)}
    for key, value in kwargs.items():
        if key in bound:
            raise DefinitionError(f"{what}: input {key!r} given twice")
        bound[key] = value
    names = [i.name for i in inputs]
    unknown = sorted(set(bound) - set(names))
    if unknown:
        raise DefinitionError(f"{what} has no input {unknown[0]!r}; its inputs are {names}")
    missing = [i.name for i in inputs if i.name not in bound and not i.has_default]
    if missing:
        raise DefinitionError(f"{what} is missing input {missing[0]!r}; pass {missing[0]}=...")
    return bound

class TaskDef:
    """A registered task. Called inside a `@workflow` body it adds a node; called elsewhere it just runs."""

    def __init__(self, fn: Callable[..., Any], container_image: Any = None, **options: Any) -> None:
        self.fn = fn
        self.module = fn.__module__
        self.short_name = fn.__qualname__
        self.name = f"{self.module}.{self.short_name}"
        self.container_image = container_image
        task_options.check_task_options(self.short_name, options)
        self.options = options
        self.inputs, self.outputs = signature_of(fn, "task")
        self.output_tuple_name = output_tuple_name(fn)
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def __repr__(self) -> str:
        return f"TaskDef({self.name})"

    def bind_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        return bind_inputs(f"task {self.short_name!r}", self.inputs, args, kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        builder = tracing.current()
        if builder is None:
            return self.fn(*args, **kwargs)
        return builder.add_node(self, self.bind_call(args, kwargs))


def task(_fn: Callable[..., Any] | None = None, *, container_image: Any = None, **options: Any) -> Any:
    """Declare a task: `@task` or `@task(container_image=ImageSpec(...), retries=2, ...)`."""
    if _fn is not None:
        return TaskDef(_fn)

    def wrap(fn: Callable[..., Any]) -> TaskDef:
        return TaskDef(fn, container_image=container_image, **options)

    return wrap
