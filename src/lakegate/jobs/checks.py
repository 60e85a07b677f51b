"""Adapter between job quality steps and the quality engine's rule models.

A quality step's ``checks`` are written in the vocabulary of rule files; this module hands
them to :func:`lakegate.quality.models.parse_rules`, so a job and a rule file accept
exactly the same checks (built-in and plugin types alike) and the two never drift apart.
"""

from __future__ import annotations

from typing import Any

from lakegate.errors import ConfigError

_SOURCE = "<job>"


def build_rule_set(dataset: str, checks: list[dict[str, Any]]) -> Any:
    """The quality engine's ``RuleSet`` for one quality step (ConfigError when invalid)."""
    from lakegate.quality.models import parse_rules

    return parse_rules({"dataset": dataset, "checks": checks}, source=_SOURCE)


def validate_with_quality_models(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return ``checks`` once the quality engine accepts each one.

    Raises ValueError with one line per problem, each naming ``checks[<i>].<key>``
    (pydantic prefixes the step's own path, so the API answers 422 with the full path).
    """
    try:
        build_rule_set("dataset", checks)
    except ImportError:  # quality engine not fully installed: check the shape only
        for index, check in enumerate(checks):
            if not isinstance(check.get("type"), str) or not check["type"]:
                raise ValueError(f"checks[{index}].type: required key missing") from None
    except ConfigError as exc:
        problems = [line.replace(f"{_SOURCE}: ", "") for line in str(exc).splitlines()]
        raise ValueError("; ".join(problems)) from exc
    return checks
