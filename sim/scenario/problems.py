"""Validation messages: pydantic errors -> Problems naming file, dotted field and value.

The file named is the one that last wrote the field (base, child or override), so a
mistake in a variant is reported in the variant, not in the file it extends.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError

from sim.errors import Problem, did_you_mean, problem
from sim.scenario.spec import ScenarioSpec


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated / Optional to reach the model, list or dict type underneath."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = models[0] if models else args[0]
        else:
            return annotation


def _field_names(loc: tuple, root: type[BaseModel]) -> list[str]:
    """Field names allowed at `loc` (a pydantic error location), for did-you-mean."""
    annotation: Any = root
    for key in loc:
        annotation = _unwrap(annotation)
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {f.alias or n: f for n, f in annotation.model_fields.items()}
            if key not in fields:
                return []
            annotation = fields[key].annotation
        elif origin in (list, dict):
            annotation = typing.get_args(annotation)[-1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [f.alias or n for n, f in annotation.model_fields.items()]
    return []




#: what a field of each type expects, in words (validation is strict: no coercion)
_TYPES = {
    "float_type": "a number (true, false and quoted text are not numbers)",
    "int_type": "a whole number (true, false, quoted text and fractions are not)",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "string_type": "text",
    "date_type": "a date (YYYY-MM-DD)",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping of fields",
    "model_attributes_type": "a mapping of fields",
    "finite_number": "a finite number",
    "too_short": "at least one entry",
}


def source_of(path: str, provenance: dict, default: str) -> str:
    """The file (or override) that last wrote `path`, a field below it, or its parent."""
    below = [source for key, source in provenance.items()
             if key == path or key.startswith(f"{path}.")]
    if below:
        return below[-1]  # provenance is in order of writing: base, child, overrides
    while path:
        path = path.rpartition(".")[0]
        if path in provenance:
            return provenance[path]
    return default


def problems_from(error: ValidationError, provenance: dict, default: str,
                  root: type[BaseModel] | None = None) -> list[Problem]:
    """Turn pydantic errors into Problems naming file, dotted field, value, expectation."""
    root = root or ScenarioSpec
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        dotted = ".".join(str(k) for k in loc)
        source = source_of(dotted, provenance, default)
        if item["type"] == "extra_forbidden":
            allowed = _field_names(loc[:-1], root)
            expected = "no such key" + did_you_mean(loc[-1], allowed)
            if allowed:
                expected += f"; allowed here: {', '.join(allowed)}"
            problems.append(problem(source, dotted, expected, loc[-1]))
        elif item["type"] == "missing":
            problems.append(problem(source, dotted, "this required field to be present"))
        else:
            message = _TYPES.get(item["type"]) or item["msg"].removeprefix(
                "Value error, ").removeprefix("Input should be ")
            problems.append(problem(source, dotted, message[0].lower() + message[1:],
                                    item.get("input")))
    return problems
