"""Check types by the ``type`` string users write in rule files.

Built-ins are listed once in :data:`BUILTIN_CHECKS`. Third-party packages add check types
through the ``lakegate.checks`` entry point group; each entry point loads a
:class:`~lakegate.quality.checks.base.Check` subclass (or instance)::

    [project.entry-points."lakegate.checks"]
    my_check = "my_package.checks:MyCheck"

A duplicate ``type`` is refused and a plugin that fails to load stops start-up with a
:class:`~lakegate.errors.ConfigError`: a silently missing check type would let data
through unchecked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from lakegate.errors import ConfigError
from lakegate.quality.checks.base import Check
from lakegate.quality.checks.completeness import NotNull
from lakegate.quality.checks.cross_dataset import Reconcile, Referential
from lakegate.quality.checks.custom import CustomSql
from lakegate.quality.checks.schema import Schema, SchemaChange
from lakegate.quality.checks.statistics import Aggregate, Anomaly
from lakegate.quality.checks.timeliness import Freshness
from lakegate.quality.checks.uniqueness import Unique
from lakegate.quality.checks.validity import (
    AcceptedValues,
    Between,
    Expression,
    ForbiddenValues,
    Length,
    Regex,
)
from lakegate.quality.checks.volume import RowCount

ENTRY_POINT_GROUP = "lakegate.checks"

BUILTIN_CHECKS: tuple[type[Check[Any]], ...] = (
    RowCount,
    NotNull,
    Unique,
    AcceptedValues,
    ForbiddenValues,
    Between,
    Regex,
    Length,
    Schema,
    SchemaChange,
    Freshness,
    Aggregate,
    Expression,
    CustomSql,
    Referential,
    Reconcile,
    Anomaly,
)


class CheckRegistry:
    """Check implementations keyed by their ``type``."""

    def __init__(self, checks: Iterable[Check[Any]] = ()) -> None:
        self._checks: dict[str, Check[Any]] = {}
        for check in checks:
            self.register(check)

    def register(self, check: Check[Any] | type[Check[Any]]) -> None:
        """Add a check type; a second one with the same ``type`` is refused."""
        instance = check() if isinstance(check, type) else check
        name = getattr(instance, "type", None)
        model = getattr(instance, "model", None)
        if not isinstance(name, str) or not name or model is None:
            raise ConfigError(f"check {instance!r} declares no type or model")
        if name in self._checks:
            raise ConfigError(
                f"check type {name!r} is registered twice "
                f"({type(self._checks[name]).__module__} and {type(instance).__module__})"
            )
        self._checks[name] = instance

    def get(self, name: str) -> Check[Any]:
        """The implementation of ``name`` (ConfigError listing known types otherwise)."""
        try:
            return self._checks[name]
        except KeyError:
            known = ", ".join(sorted(self._checks))
            raise ConfigError(f"unknown check type {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        """Registered type names, in registration order."""
        return list(self._checks)

    def __contains__(self, name: object) -> bool:
        return name in self._checks

    def __iter__(self) -> Iterator[Check[Any]]:
        return iter(self._checks.values())


def load_plugins(registry: CheckRegistry, group: str = ENTRY_POINT_GROUP) -> None:
    """Register every check type published under the entry point ``group``."""
    for entry in entry_points(group=group):
        try:
            loaded = entry.load()
        except Exception as exc:
            raise ConfigError(
                f"check plugin {entry.name!r} ({entry.value}) failed to load: {exc}"
            ) from exc
        registry.register(loaded)


@lru_cache(maxsize=1)
def default_registry() -> CheckRegistry:
    """Built-ins plus installed plugins (built once per process)."""
    registry = CheckRegistry(check() for check in BUILTIN_CHECKS)
    load_plugins(registry)
    return registry
