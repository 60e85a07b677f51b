"""One-line messages for rule-file validation errors (file, check index, key)."""

from __future__ import annotations

import difflib

from pydantic import ValidationError


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validation_problems(
    where: str, prefix: str, error: ValidationError, fields: list[str] | None = None
) -> list[str]:
    """One line per validation error of a model validated at ``prefix`` in file ``where``.

    A misspelt key (``colum``) is reported once, as unknown with a hint, rather than
    also as a missing required key (``column``).
    """
    items = error.errors()
    missing = {str(i["loc"][-1]) for i in items if i["type"] == "missing" and i["loc"]}
    explained: set[str] = set()
    hints: dict[str, str] = {}
    for item in items:
        if item["type"] == "extra_forbidden" and item["loc"]:
            key = str(item["loc"][-1])
            close = difflib.get_close_matches(key, sorted(missing) or (fields or []), n=1)
            if close:
                hints[key] = close[0]
                explained.add(close[0])
    problems = []
    for item in items:
        loc = _location(tuple(item["loc"]))
        path = f"{prefix}.{loc}" if prefix and loc else (prefix or loc)
        last = str(item["loc"][-1]) if item["loc"] else ""
        if item["type"] == "extra_forbidden":
            text = "unknown key"
            if last in hints:
                text += f" (did you mean {hints[last]!r}?)"
        elif item["type"] == "missing":
            if last in explained:
                continue
            text = "required key missing"
        else:
            text = str(item["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {path}: {text}" if path else f"{where}: {text}")
    return problems
