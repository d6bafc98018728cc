"""`conditional(...)`: flytekit's branch node, traced into a `BranchNode` the compiler turns into a Choice state.

    conditional("size").if_((x > 10) & (x < 100)).then(mid(x=x))
                       .elif_(x >= 100).then(big(x=x))
                       .else_().fail("x must be above 10")

Conditions compare a workflow input or a task output with a constant or another one (`==`, `!=`, `<`, `<=`,
`>`, `>=`, on int, float, str, bool), test `is_true()`, `is_false()`, `is_none()`, and combine with `&`, `|`
(Python's `and`, `or`, `not` cannot be traced). A case's body is whatever the `.then(...)` argument calls (tasks,
subworkflows, other conditionals); only the chosen case runs. Every case that does not fail must return the
same number of outputs; the conditional then returns them (one promise, or a tuple).
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field

from chalicelib.errors import DefinitionError
from chalicelib.sdk import tracing


class Expr:
    """A condition, evaluated by the state machine (a Choice rule)."""

    def __and__(self, other: Any) -> Expr:
        return Junction("And", [self, _expr(other, "&")])

    def __or__(self, other: Any) -> Expr:
        return Junction("Or", [self, _expr(other, "|")])

    def __bool__(self) -> bool:
        raise DefinitionError("a condition cannot be used with Python's 'and', 'or', 'not' or 'if' in a workflow "
                              "body; combine conditions with & and |, inside conditional(...).if_(...)")

    def promises(self) -> list[tracing.Promise]:
        raise NotImplementedError


def _expr(value: Any, where: str) -> Expr:
    if isinstance(value, Expr):
        return value
    raise DefinitionError(f"conditional: {where} combines conditions, but got {value!r}; write "
                          f"(x > 1) & (y < 2), with parentheses, or x.is_true()")


OPS = ("==", "!=", "<", "<=", ">", ">=")


class Comparison(Expr, Struct, eq=False):
    op: str
    left: tracing.Promise
    right: Any  # a Promise or a constant

    def promises(self) -> list[tracing.Promise]:
        return [p for p in (self.left, self.right) if isinstance(p, tracing.Promise)]


class Unary(Expr, Struct, eq=False):
    op: str  # is_true, is_false, is_none
    operand: tracing.Promise

    def promises(self) -> list[tracing.Promise]:
        return [self.operand]


class Junction(Expr, Struct, eq=False):
    op: str  # And, Or
    parts: list[Expr]

    def promises(self) -> list[tracing.Promise]:
        return [p for part in self.parts for p in part.promises()]


class Case(Struct):
    condition: Expr | None  # None for else_()
    body: list[Any] = field(default_factory=list)
    outputs: list[dict[str, Any]] | None = None  # bindings of what .then(...) returned; None: the case fails
    fail: str | None = None


class BranchNode(Struct):
    """A conditional: its cases in order, and the bindings each case gives the conditional's outputs."""

    id: str
    name: str
    cases: list[Case]
    output_names: list[str]
    output_types: list[Any]
    upstream: list[str] = field(default_factory=list)

    def refs(self) -> set[str]:
        return set(self.upstream)

    def inner_ids(self) -> set[str]:
        out: set[str] = set()
        for case in self.cases:
            for node in case.body:
                out.add(node.id)
                if isinstance(node, BranchNode):
                    out |= node.inner_ids()
        return out


class OpenSection:
    """A conditional being traced; it has no value until it ends with `.else_().then(...)` or `.fail(...)`."""

    def why_no_value(self) -> str:
        raise NotImplementedError


class Conditional(OpenSection):
    def __init__(self, builder: tracing.WorkflowBuilder, name: str) -> None:
        self.builder = builder
        self.name = name
        self.cases: list[Case] = []
        self.results: list[Any] = []
        self.open_case: Case | None = None
        self.done = False
        self.target = builder.current_target()
        builder.open_sections.append(self)

    def why_no_value(self) -> str:
        if self.open_case is not None:
            return f"conditional {self.name!r}: a case is missing its .then(...)"
        return (f"conditional {self.name!r} has no else_(): with no case matching, its outputs would be unset; "
                f"end it with .else_().then(...) or .else_().fail('...')")

    def _start(self, condition: Expr | None, what: str) -> _Then:
        if self.done:
            raise DefinitionError(f"conditional {self.name!r} already ended with else_(); start another conditional")
        if self.open_case is not None:
            raise DefinitionError(f"conditional {self.name!r}: {what} follows a case without .then(...)")
        if condition is not None and not isinstance(condition, Expr):
            raise DefinitionError(
                f"conditional {self.name!r}: {what} takes a condition on a workflow input or a task output "
                f"(x > 3, x.is_true(), (a == b) & (c < 1)); got {condition!r}, which is known while tracing — "
                f"pick the branch in Python instead")
        for promise in condition.promises() if condition is not None else []:
            self._check_promise(promise)
        case = Case(condition)
        self.open_case = case
        self.builder.push_target(case.body)
        return _Then(self, case)

    def _check_promise(self, promise: tracing.Promise) -> None:
        binding = promise.binding()
        if "const" in binding:
            raise DefinitionError(f"conditional {self.name!r}: a condition compares a constant "
                                  f"({binding['const']!r}); compare a workflow input or a task output")

    def _end(self, case: Case, result: Any, fail: str | None) -> None:
        if self.open_case is not case:
            raise DefinitionError(f"conditional {self.name!r}: .then(...) called twice on one case")
        close_sections(self.builder, case.body)
        self.builder.pop_target()
        self.open_case = None
        if fail is not None:
            case.fail = fail
        else:
            case.outputs = self._bindings(result)
            self.results.append(result)
        self.cases.append(case)

    def _bindings(self, result: Any) -> list[dict[str, Any]]:
        if result is None:
            return []
        values = list(result) if isinstance(result, tuple) else [result]
        where = f"conditional {self.name!r}, case {len(self.cases) + 1}"
        out = []
        for i, value in enumerate(values):
            if isinstance(value, tracing.Promise) and value.node is not None and value.output is None:
                if len(values) == 1:
                    return []  # a task with no outputs: the case produces nothing
            out.append(self.builder.binding_for(value, f"{where} output {i}"))
        return out

    # flytekit's API -------------------------------------------------------------------------------------
    def if_(self, condition: Any) -> _Then:
        if self.cases or self.open_case:
            raise DefinitionError(f"conditional {self.name!r}: if_ may come only first; use elif_")
        return self._start(condition, "if_")

    def elif_(self, condition: Any) -> _Then:
        if not self.cases:
            raise DefinitionError(f"conditional {self.name!r}: elif_ before if_")
        return self._start(condition, "elif_")

    def else_(self) -> _Then:
        if not self.cases:
            raise DefinitionError(f"conditional {self.name!r}: else_ before if_")
        return _Then(self, self._start(None, "else_").case, last=True)

    def finish(self) -> Any:
        """Add the branch node to the graph; what the conditional returns."""
        if self.done:
            return self.value
        self.done = True
        self.builder.open_sections.remove(self)
        producing = [c for c in self.cases if c.outputs is not None]
        counts = {len(c.outputs or []) for c in producing}
        if len(counts) > 1:
            detail = ", ".join(f"case {i + 1}: {len(c.outputs)}" for i, c in enumerate(self.cases)
                               if c.outputs is not None)
            raise DefinitionError(
                f"conditional {self.name!r}: every case must produce the same outputs, or fail; they produce "
                f"different numbers of outputs ({detail})")
        n = counts.pop() if counts else 0
        first = self.results[0] if self.results else None
        firsts = list(first) if isinstance(first, tuple) else [first]
        names = list(getattr(first, "_fields", [])) if isinstance(first, tuple) else []
        if len(names) != n:
            names = [f"o{i}" for i in range(n)]
        types = [getattr(v, "type", Any) for v in firsts][:n]
        node_id = self.builder.new_id()
        node = BranchNode(node_id, self.name, self.cases, names, types)
        inner = node.inner_ids()
        refs: set[str] = set()
        for case in self.cases:
            for p in case.condition.promises() if case.condition is not None else []:
                refs |= tracing.binding_refs(p.binding())
            for b in case.outputs or []:
                refs |= tracing.binding_refs(b)
            for inner_node in case.body:
                refs |= inner_node.refs()
        node.upstream = sorted(refs - inner, key=tracing.node_order)
        self.target.append(node)
        self.builder.by_id[node.id] = node
        promises = [tracing.Promise(node_id, name, type=t) for name, t in zip(names, types)]
        self.value = tracing.task_outputs([_Named(nm) for nm in names], promises,
                                          first.__class__.__name__ if names and names[0] != "o0" else None)
        return self.value


class _Named(Struct, frozen=True):
    name: str


class _Then:
    def __init__(self, section: Conditional, case: Case, last: bool = False) -> None:
        self.section, self.case, self.last = section, case, last

    def then(self, result: Any) -> Any:
        self.section._end(self.case, result, None)
        return self.section.finish() if self.last else self.section

    def fail(self, message: str) -> Any:
        if not isinstance(message, str):
            raise DefinitionError(f"conditional {self.section.name!r}: fail() takes a message; got {message!r}")
        self.section._end(self.case, None, message)
        return self.section.finish() if self.last else self.section


def conditional(name: str) -> Conditional:
    """Start a branch node in a workflow body (flytekit's `conditional`)."""
    builder = tracing.current()
    if builder is None:
        raise DefinitionError(f"conditional({name!r}) is used outside a @workflow body; it only works while a "
                              f"workflow is traced")
    if not isinstance(name, str) or not name:
        raise DefinitionError(f"conditional() takes a name, e.g. conditional('size'); got {name!r}")
    return Conditional(builder, name)


def close_sections(builder: tracing.WorkflowBuilder, target: list[Any] | None = None) -> None:
    """End the conditionals left without else_() in `target` (the graph being traced by default): they
    produce nothing, and the body goes on after them."""
    target = builder.current_target() if target is None else target
    for section in [s for s in builder.open_sections if s.target is target]:
        if section.open_case is not None:
            raise DefinitionError(section.why_no_value())
        for case in section.cases:
            if case.outputs is not None:
                case.outputs = []
        section.results = []
        section.finish()
