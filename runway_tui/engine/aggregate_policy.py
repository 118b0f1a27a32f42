"""Which pipelines the aggregate view runs, and how, so that it only reads and redaction holds (issue 27).

Every check runs before anything is sent, and a refusal is one line naming the stage:

- stages come from a whitelist (ALLOWED); `$out` and `$merge` (they write), `$function`, `$accumulator` and
  `$where` (JavaScript) are refused wherever they appear, inside `$facet` and `$lookup` too, and so is any
  stage not listed; `$lookup` joins a collection of this database only; `$project` only includes or
  excludes (compute with `$set` / `$addFields`);
- while `tui.redact_fields` is set, a field path over a redacted field (`"$email"`, `$sort` on it, `$set`
  of it, a `$lookup` on it...) is refused, and the pipeline sent is the one typed with the server-side
  redaction of redacted_view.py added: the fields the pipeline computes with are redacted right after its
  leading `$match`/`$limit`/`$skip`/`$project` stages (the whole document when it reads `$$ROOT`), and
  every `$lookup` redacts the documents it joins. What it passes on without reading keeps its names, and
  the results are redacted by name (`AGGREGATE` rules below) before anything is shown.
"""

from __future__ import annotations

from typing import Any

from runway_tui.engine.inspect_redaction import READS_ANY_FIELD, SETTING, QueryGuard, Redactor
from runway_tui.engine.inspect_values import InspectInputError
from runway_tui.engine.redacted_view import document_stage, fields_stage

ALLOWED = ("$match", "$project", "$group", "$sort", "$limit", "$skip", "$unwind", "$count", "$sortByCount",
           "$bucket", "$facet", "$addFields", "$set", "$lookup")
NEVER = {"$out": "writes to a collection", "$merge": "writes to a collection",
         "$function": "runs JavaScript on the server", "$accumulator": "runs JavaScript on the server",
         "$where": "runs JavaScript on the server"}
HOISTED = ("$match", "$limit", "$skip", "$project")  # before the redaction: they reveal nothing
WHOLE = ("$$ROOT", "$$CURRENT")


def _stage_name(stage: Any, where: str) -> str:
    if not isinstance(stage, dict) or len(stage) != 1:
        raise InspectInputError(f"{where}: each stage is an object with one operator, such as {{$match: {{…}}}}")
    name = str(next(iter(stage)))
    if name in NEVER:
        raise InspectInputError(f"{where} ({name}): {name} {NEVER[name]}; the explorer only reads")
    if name not in ALLOWED:
        raise InspectInputError(f"{where}: {name} is not a stage the explorer runs; it runs {', '.join(ALLOWED)}")
    return name


def as_pipeline(value: Any) -> list[dict[str, Any]]:
    """A list of stages (one stage alone counts as a list of one)."""
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise InspectInputError("pipeline: expected a list of stages such as [{$match: {…}}, {$count: 'n'}]")
    return value


class PipelinePolicy:
    """Checks a pipeline against the whitelist and redaction, and gives the pipeline to send."""

    def __init__(self, guard: QueryGuard) -> None:
        self.guard = guard
        self.redactor: Redactor = guard.redactor

    # ------------------------------------------------------------------ checks
    def check(self, pipeline: list[dict[str, Any]], where: str = "pipeline") -> None:
        for number, stage in enumerate(pipeline, start=1):
            place = f"{where}: stage {number}"
            name = _stage_name(stage, place)
            body = stage[name]
            self._never(body, f"{place} ({name})")
            getattr(self, f"_check_{name[1:]}", self._check_expression)(body, f"{place} ({name})")

    def _never(self, value: Any, where: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in NEVER:
                    raise InspectInputError(f"{where}: {key} {NEVER[key]}; the explorer never runs it")
                self._never(item, where)
        elif isinstance(value, list):
            for item in value:
                self._never(item, where)

    def _path(self, path: str, where: str, what: str = "a field path over") -> None:
        if not self.redactor.active:
            return
        hidden = self.redactor.covering(path)
        if hidden is not None:
            raise InspectInputError(f"{where}: {what} the redacted field {self.redactor.mask(hidden)!r} "
                                    f"({SETTING}) is refused; use other fields")

    def _check_expression(self, value: Any, where: str) -> None:
        """Every field path an expression reads (`"$a.b"`, `"$$ROOT.a"`, `"$$item.b"`), `$literal` left out."""
        if isinstance(value, str):
            if value.startswith("$$"):
                head, _, rest = value[2:].partition(".")
                if rest:
                    self._path(rest, where)
            elif value.startswith("$") and len(value) > 1:
                self._path(value[1:], where)
        elif isinstance(value, dict):
            for key, item in value.items():
                if key != "$literal":
                    self._check_expression(item, where)
        elif isinstance(value, list):
            for item in value:
                self._check_expression(item, where)

    def _check_match(self, body: Any, where: str) -> None:
        if not isinstance(body, dict):
            raise InspectInputError(f"{where}: expected a filter object such as {{status: 'active'}}")
        self._condition(body, "", where)

    def _condition(self, value: Any, prefix: str, where: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                name = str(key)
                if name == "$expr":
                    self._check_expression(item, where)
                elif name.startswith("$"):
                    self._condition(item, prefix, where)
                else:
                    path = f"{prefix}.{name}" if prefix else name
                    self._path(path, where, "a condition on")
                    self._condition(item, path, where)
        elif isinstance(value, list):
            for item in value:
                self._condition(item, prefix, where)

    def _check_project(self, body: Any, where: str, prefix: str = "") -> None:
        if not isinstance(body, dict):
            raise InspectInputError(f"{where}: expected {{field: 1}} (include) or {{field: 0}} (exclude)")
        for key, value in body.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict) and value and not any(str(k).startswith("$") for k in value):
                self._check_project(value, where, path)
                continue
            if not (isinstance(value, bool) or (isinstance(value, int | float) and value in (0, 1))):
                raise InspectInputError(f"{where}: {path!r} must be 1 (include) or 0 (exclude); compute fields "
                                        "with $set or $addFields")
            hidden = self.redactor.covering(path) if self.redactor.active else None
            if hidden is not None and hidden != path:
                raise InspectInputError(f"{where}: a field inside the redacted field {hidden!r} ({SETTING}) is "
                                        f"refused; include or exclude {hidden!r} itself")

    def _check_sort(self, body: Any, where: str) -> None:
        for key in body if isinstance(body, dict) else []:
            self._path(str(key), where, "a sort on")

    def _check_set(self, body: Any, where: str) -> None:
        for key, value in (body.items() if isinstance(body, dict) else []):
            self._path(str(key), where, "setting")
            self._check_expression(value, where)

    _check_addFields = _check_set

    def _check_unwind(self, body: Any, where: str) -> None:
        path = body.get("path") if isinstance(body, dict) else body
        self._check_expression(path, where)

    def _check_facet(self, body: Any, where: str) -> None:
        for name, sub in (body.items() if isinstance(body, dict) else []):
            self.check(as_pipeline(sub), f"{where} '{name}'")

    def _check_lookup(self, body: Any, where: str) -> None:
        if not isinstance(body, dict) or not isinstance(body.get("from"), str):
            raise InspectInputError(f"{where}: 'from' names a collection of this database (a string); "
                                    "another database is refused")
        for key in ("localField", "foreignField"):
            if isinstance(body.get(key), str):
                self._path(body[key], where, "a join on")
        self._check_expression(body.get("let"), where)
        if "pipeline" in body:
            self.check(as_pipeline(body["pipeline"]), f"{where} pipeline")

    def _check_limit(self, body: Any, where: str) -> None:
        pass

    _check_skip = _check_count = _check_limit

    # ------------------------------------------------------------------ what is sent
    def executed(self, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The pipeline as sent: as typed, with the server-side redaction added while something is redacted."""
        if not self.redactor.active:
            return pipeline
        lead = 0
        while lead < len(pipeline) and self._hoistable(pipeline[lead]):
            lead += 1
        rest = [self._with_joined_redacted(stage) for stage in pipeline[lead:]]
        if not rest:
            return pipeline
        reads = _Reads()
        reads.pipeline(rest)
        if reads.whole:
            middle = [document_stage(self.redactor)]
        else:
            fields = sorted(name for name in reads.fields if name and "$" not in name)
            middle = [fields_stage(self.redactor, fields)] if fields else []
        return [*pipeline[:lead], *middle, *rest]

    def _hoistable(self, stage: dict[str, Any]) -> bool:
        name = next(iter(stage))
        if name not in HOISTED:
            return False
        if name == "$match":
            return not _mentions(stage[name], READS_ANY_FIELD)  # $expr reads computed: after the redaction
        return True

    def _with_joined_redacted(self, stage: dict[str, Any]) -> dict[str, Any]:
        name = next(iter(stage))
        if name == "$lookup":
            body = dict(stage[name])
            inner = as_pipeline(body.get("pipeline", []))
            body["pipeline"] = [document_stage(self.redactor), *self.executed(inner)] if inner else \
                [document_stage(self.redactor)]
            return {name: body}
        if name == "$facet":
            return {name: {key: [self._with_joined_redacted(s) for s in as_pipeline(sub)]
                           for key, sub in stage[name].items()}}
        return stage


def results_redactor(redactor: Redactor) -> Redactor:
    """Redaction of a pipeline's results by name: a pipeline can move a field under another parent (`$facet`,
    `$lookup`'s `as`, `$group`'s `$push`), so each glob's last name (`ssn` of `*.ssn` or `profile.ssn`) is
    hidden wherever it appears, besides the names and globs themselves."""
    patterns = [*sorted(redactor.names), *redactor.globs]
    for glob in redactor.globs:
        last = glob.rsplit(".", 1)[-1]
        patterns += [last, f"*.{last}"] if any(c in last for c in "*?[") else [last]
    return Redactor(patterns, redactor.secrets)


def _mentions(value: Any, operators: dict[str, str]) -> bool:
    if isinstance(value, dict):
        return any(key in operators or _mentions(item, operators) for key, item in value.items())
    if isinstance(value, list):
        return any(_mentions(item, operators) for item in value)
    return False


class _Reads:
    """The top-level fields a pipeline computes with (expressions, sort keys, conditions, unwinds, joins), and
    whether it reads the whole document. `$lookup` sub-pipelines read the joined collection: left out."""

    def __init__(self) -> None:
        self.fields: set[str] = set()
        self.whole = False

    def pipeline(self, stages: list[dict[str, Any]]) -> None:
        for stage in stages:
            name, body = next(iter(stage.items()))
            if name in ("$limit", "$skip", "$count", "$project"):
                continue  # nothing computed: what passes on keeps its name (redacted by name after)
            if name == "$match":
                self.condition(body)
            elif name == "$sort":
                self.fields.update(str(k).split(".")[0] for k in body)
            elif name == "$facet":
                for sub in body.values():
                    self.pipeline(as_pipeline(sub))
            elif name == "$lookup":
                self.expression(f"${body['localField']}" if isinstance(body.get("localField"), str) else None)
                self.expression(body.get("let"))
            elif name in ("$set", "$addFields"):
                self.expression(list(body.values()))
            else:
                self.expression(body)

    def condition(self, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "$expr":
                    self.expression(item)
                elif str(key).startswith("$"):
                    self.condition(item)
                else:
                    self.fields.add(str(key).split(".")[0])
        elif isinstance(value, list):
            for item in value:
                self.condition(item)

    def expression(self, value: Any) -> None:
        if isinstance(value, str):
            if value.split(".")[0] in WHOLE:
                self.whole = True
            elif value.startswith("$") and not value.startswith("$$"):
                self.fields.add(value[1:].split(".")[0])
        elif isinstance(value, dict):
            for key, item in value.items():
                if key != "$literal":
                    self.expression(item)
        elif isinstance(value, list):
            for item in value:
                self.expression(item)
