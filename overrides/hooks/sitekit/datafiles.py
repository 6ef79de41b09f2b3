"""Read a data file under ``data/`` and validate it against its schema.

Why: every number on the site lives once in a data file, and a contributor who
gets one wrong must be sent to the line: ``data/routes.yml:12: message``. One
YAML parse gives both the PyYAML nodes, whose marks give the line of every key
and list item, and the plain data built from them (for the schema); each schema
error's location is looked up in those lines. The schemas are in ``sitekit.schemas``.
"""

from __future__ import annotations

import copy
import functools
import string
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, RootModel, ValidationError

from sitekit.errors import SiteError, raise_all

M = TypeVar("M", bound=BaseModel)
# The one YAML loader of the build (libyaml when available): data files, front matter, facts.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Loc = tuple[Any, ...]


def load(path: Path, display: str) -> tuple[Any, dict[Loc, int]]:
    """(data, lines): ``lines`` maps each location, e.g. ``("routes", 1, "id")``, to its 1-based line.
    ``data`` is the caller's own copy; ``lines`` is shared and must not be changed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SiteError(display, None, "data file not found") from exc
    data, lines = parse_text(text, display)
    return copy.deepcopy(data), lines


@functools.lru_cache(maxsize=64)
def parse_text(text: str, display: str) -> tuple[Any, dict[Loc, int]]:
    """YAML text -> (data, lines), as ``load`` (also used for front matter by ``sitekit.changes``). One
    parse (libyaml when available) gives both the nodes, whose marks carry the lines, and the data built
    from them. Memoised on the text: several pages use the same file, and a YAML parse cost
    about a quarter of a build before (a failed parse raises, and is not memoised)."""
    loader = YAML_LOADER(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SiteError(display, mark.line + 1 if mark else None, f"not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {(): 1}
    errors: list[SiteError] = []
    if node is not None:
        _walk(node, (), lines, errors, display)
    raise_all(errors)
    return data, lines


def _walk(node, loc: Loc, lines: dict, errors: list, display: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name, line = key.value, key.start_mark.line + 1
            if name in seen:
                errors.append(SiteError(display, line, f"'{name}' is given twice (first on line {seen[name]})"))
            seen[name] = line
            lines[(*loc, name)] = line
            _walk(value, (*loc, name), lines, errors, display)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*loc, i)] = item.start_mark.line + 1
            _walk(item, (*loc, i), lines, errors, display)


def line_at(lines: dict[Loc, int], loc: Loc) -> int:
    """The line of ``loc``, or of its nearest enclosing location (a missing key: its mapping)."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def validate(schema: type[M], path: Path, display: str, context: dict | None = None) -> M:
    """The data file as a validated ``schema`` instance; every problem is reported, each with its line."""
    data, lines = load(path, display)
    try:
        model = schema.model_validate(data, context=context or {})
    except ValidationError as exc:
        raise_all([SiteError(display, line_at(lines, err["loc"]),
                             describe(schema, data, err["loc"], message(err)))
                   for err in exc.errors(include_url=False)])
    raise_all([SiteError(display, line_at(lines, loc), describe(schema, data, loc, msg))
               for item, base in _records(model, ()) for loc_, msg in getattr(item, "problems", tuple)()
               for loc in [(*base, *loc_)]])
    return model


def _records(value: Any, loc: Loc):
    """Every model in a validated tree with its location (for ``problems()``)."""
    if isinstance(value, RootModel):
        yield value, loc
        yield from _records(value.root, loc)
    elif isinstance(value, BaseModel):
        yield value, loc
        for name in type(value).model_fields:
            yield from _records(getattr(value, name), (*loc, name))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _records(item, (*loc, i))


# --- turning a pydantic error into a contributor's message --------------------------

_KIND = {"int": "a whole number", "float": "a number", "bool": "true or false", "string": "text",
         "list": "a list", "model": "a mapping", "dict": "a mapping"}


def message(err: dict) -> str:
    kind, loc, ctx = err["type"], err["loc"], err.get("ctx") or {}
    field = str(loc[-1]) if loc and isinstance(loc[-1], str) else ""
    if kind == "missing":
        return f"missing '{field}'"
    if kind == "extra_forbidden":
        return f"unknown field '{field}'"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", err["msg"]))
    if kind == "too_short" and field == "cite":
        return "'cite' is empty"
    if kind == "string_too_short":
        return f"'{field}' is empty" if field else "empty text"
    if kind == "string_too_long":
        return f"'{field}' is {len(err['input'])} characters; keep it to {ctx.get('max_length')}"
    if kind == "literal_error":
        return f"'{field}' must be one of {ctx.get('expected', '').replace(' or ', ', ').replace(chr(39), '')}"
    if kind == "too_short":
        return f"'{field}' needs at least {ctx.get('min_length')} item(s)" if field else "expected a non-empty list"
    for prefix, what in _KIND.items():
        if kind.startswith(prefix) and kind.endswith(("_type", "_parsing")):
            return f"'{field}' must be {what}" if field else f"must be {what}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"'{field}' {err['msg'].lower().removeprefix('input ')}"
    return f"'{field}': {err['msg']}" if field else err["msg"]


def describe(schema: type[BaseModel], data: Any, loc: Loc, msg: str) -> str:
    """Prefix ``msg`` with the records it is in ("route oral: tmax_min: study 2: ...") and advice for a missing field."""
    words, tp, node, advice = [], schema, data, ""
    for i, step in enumerate(loc):
        tp = _unwrap(tp)
        if isinstance(step, int):
            tp = _unwrap(_item(tp))
            node = node[step] if isinstance(node, list) and step < len(node) else None
            label = getattr(tp, "__label__", None)
            if label:
                noun, fmt = label
                if i == len(loc) - 1 and msg.startswith("must be"):
                    return f"{noun} {msg}"  # the record itself has the wrong shape
                words.append(f"{noun} {_fill(fmt, node) if fmt and isinstance(node, dict) else step + 1}")
        elif isinstance(tp, type) and issubclass(tp, BaseModel) and step in tp.model_fields:
            info = tp.model_fields[step]
            if i == len(loc) - 1:
                advice = info.description or ""
                if not msg.startswith((f"missing '{step}'", f"unknown field '{step}'", f"'{step}'")):
                    words.append(step)  # a problem with the field's value
            elif not _is_list(info.annotation):
                words.append(step)
            tp = info.annotation
            node = node.get(step) if isinstance(node, dict) else None
    if advice and advice not in msg and (msg.startswith("missing") or msg.endswith("is empty")):
        msg = f"{msg}: {advice}"
    return ": ".join([*words, msg])



def _fill(fmt: str, node: dict) -> str:
    class Missing(dict):
        def __missing__(self, key):
            return "?"
    return string.Formatter().vformat(fmt, (), Missing(node))


def _unwrap(tp):
    """The model or container behind Annotated[...], Optional and RootModel."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif isinstance(tp, type) and issubclass(tp, RootModel):
            tp = tp.model_fields["root"].annotation
        else:
            return tp


def _item(tp):
    args = typing.get_args(tp)
    return args[0] if typing.get_origin(tp) is list and args else None


def _is_list(tp) -> bool:
    return typing.get_origin(_unwrap(tp)) is list
