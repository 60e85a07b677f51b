"""Validity checks judged row by row: accepted/forbidden values, between, regex, length,
expression. NULL values pass every one of them."""

from __future__ import annotations

from sqlglot import exp

from lakegate.quality.checks.base import (
    CompileContext,
    RowCheck,
    col,
    is_text_type,
    literal,
    not_null,
    parse_fragment,
)
from lakegate.quality.models import (
    AcceptedValuesCheck,
    BetweenCheck,
    ExpressionCheck,
    ForbiddenValuesCheck,
    LengthCheck,
    RegexCheck,
)
from lakegate.quality.statistics import DatasetStatistics, proves_within


def _as_text(name: str, ctx: CompileContext) -> exp.Expr:
    """The column as text (cast only when it is not text already, to keep scans cheap)."""
    column = col(name)
    if is_text_type(ctx.columns.get(name, "VARCHAR")):
        return column
    return exp.cast(column, exp.DataType.build("VARCHAR"))


def _any(*conditions: exp.Expr) -> exp.Expr:
    return conditions[0] if len(conditions) == 1 else exp.or_(*conditions, wrap=True)


class AcceptedValues(RowCheck[AcceptedValuesCheck]):
    """A non-NULL value outside ``values`` fails."""

    type = "accepted_values"
    model = AcceptedValuesCheck

    def failing(self, check: AcceptedValuesCheck, ctx: CompileContext) -> exp.Expr:
        """``col IS NOT NULL AND NOT col IN (values)``."""
        column = col(check.column)
        inside = column.isin(*(literal(v) for v in check.values))
        return exp.and_(not_null(column), exp.Not(this=inside))


class ForbiddenValues(RowCheck[ForbiddenValuesCheck]):
    """A value in ``values`` fails."""

    type = "forbidden_values"
    model = ForbiddenValuesCheck

    def failing(self, check: ForbiddenValuesCheck, ctx: CompileContext) -> exp.Expr:
        """``col IN (values)`` (NULL is never in a list)."""
        return col(check.column).isin(*(literal(v) for v in check.values))


class Between(RowCheck[BetweenCheck]):
    """A non-NULL value below ``min`` or above ``max`` fails."""

    type = "between"
    model = BetweenCheck

    def failing(self, check: BetweenCheck, ctx: CompileContext) -> exp.Expr:
        """``col IS NOT NULL AND (col < min OR col > max)``."""
        column = col(check.column)
        outside: list[exp.Expr] = []
        if check.min is not None:
            outside.append(exp.LT(this=column.copy(), expression=literal(check.min)))
        if check.max is not None:
            outside.append(exp.GT(this=column.copy(), expression=literal(check.max)))
        return exp.and_(not_null(column), _any(*outside))

    def failed_from_statistics(self, check: BetweenCheck, stats: DatasetStatistics) -> int | None:
        """0 when every row group's min and max are inside the bounds; otherwise the
        scan counts the rows outside."""
        column = stats.column(check.column)
        if column is None or not proves_within(column, check.min, check.max):
            return None
        return 0


class Regex(RowCheck[RegexCheck]):
    """A non-NULL value not matching the pattern (searched; anchor with ^ $) fails."""

    type = "regex"
    model = RegexCheck

    def failing(self, check: RegexCheck, ctx: CompileContext) -> exp.Expr:
        """``col IS NOT NULL AND NOT regexp_matches(col, pattern)``."""
        text = _as_text(check.column, ctx)
        matches = exp.RegexpLike(this=text, expression=exp.Literal.string(check.regex))
        return exp.and_(not_null(col(check.column)), exp.Not(this=matches))


class Length(RowCheck[LengthCheck]):
    """A non-NULL value whose length is out of bounds fails."""

    type = "length"
    model = LengthCheck

    def failing(self, check: LengthCheck, ctx: CompileContext) -> exp.Expr:
        """``col IS NOT NULL AND (length(col) < min OR ... )``."""
        length = exp.Length(this=_as_text(check.column, ctx))
        outside: list[exp.Expr] = []
        if check.min is not None:
            outside.append(exp.LT(this=length.copy(), expression=literal(check.min)))
        if check.max is not None:
            outside.append(exp.GT(this=length.copy(), expression=literal(check.max)))
        if check.equals is not None:
            outside.append(exp.NEQ(this=length.copy(), expression=literal(check.equals)))
        return exp.and_(not_null(col(check.column)), _any(*outside))


class Expression(RowCheck[ExpressionCheck]):
    """A row where the boolean ``expression`` is false fails (NULL passes)."""

    type = "expression"
    model = ExpressionCheck

    def failing(self, check: ExpressionCheck, ctx: CompileContext) -> exp.Expr:
        """``NOT (expression)``: NULL stays NULL, which counts as passing."""
        tree = parse_fragment(check.expression, f"{ctx.location}.expression")
        return exp.Not(this=exp.paren(tree, copy=False))

    def sample_of(self, check: ExpressionCheck) -> list[str]:
        """The named column, else the columns the expression reads."""
        if check.column:
            return [check.column]
        tree = parse_fragment(check.expression, check.check_name)
        return sorted({c.name for c in tree.find_all(exp.Column)})
