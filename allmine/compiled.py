"""ORM queries compiled once, then run with new parameters: the fixed cost of a hot read.

Building a QuerySet and compiling it to SQL can cost more than running it: 1.7 ms of CPU for
the stream object's 34-column join, where SQLite answers a one-stream page in a tenth of that.
A `CompiledQuery` builds its `.values_list()` queryset from placeholder parameters once per
database alias and shape (how many items each list parameter holds), keeps the SQL, where each
parameter goes and the columns' converters, and runs every later call as that SQL through
Django's own connection (query logging, `CaptureQueriesContext` and execute wrappers see it).
The queryset stays the single definition of the query; nothing is written twice.

Parameters must be strings or lists of strings compared as they are (ids): anything else
would be transformed on the way into the SQL, which compiling checks and refuses. A datetime
parameter is the one exception: the build function compares with `Value(param)` (its mark goes
into the SQL as it is) and each call adapts the datetime as the backend stores it.
"""

from collections.abc import Callable
from datetime import datetime

from django.db import connections, router
from django.db.models import Model, QuerySet

_MARK = "\x1fparam:"
_MAX_SHAPES = 512  # list lengths kept per query; forgets them all beyond (never in practice)


class CompiledQuery:
    """`rows(**params)` = `list(build(**params))` for a `build` that returns a `.values_list()`
    queryset of `model`, without building or compiling it again. `limit`/`offset` add
    `LIMIT`/`OFFSET` as parameters (SQLite and PostgreSQL), so every page shares one SQL;
    `count(**params)` counts the rows in SQL."""

    def __init__(self, build: Callable[..., QuerySet], *, model: type[Model], convert=True):
        """`convert=False` leaves the values as the database driver returns them (on SQLite
        and PostgreSQL: naive or aware UTC datetimes, JSON as text, a decimal as a float or
        a Decimal): for a hot read that handles those itself and skips a Python call per
        value."""
        self._build = build
        self._model = model
        self._convert = convert
        self._compiled: dict = {}

    def count(self, **params) -> int:
        """How many rows `rows(**params)` would return, in one query."""
        rows = self.rows(_count=True, **params)  # [] when a list parameter is empty
        return rows[0][0] if rows else 0

    def rows(
        self, *, limit: int | None = None, offset: int = 0, _count: bool = False, **params
    ) -> list[tuple]:
        shape, datetimes = [], False
        for name, value in params.items():
            if isinstance(value, (list, tuple)):
                if not value:
                    return []  # `IN ()` matches nothing
                shape.append((name, len(value)))
            else:
                shape.append((name, None))
                datetimes = datetimes or isinstance(value, datetime)
        alias = router.db_for_read(self._model)
        key = (alias, tuple(shape), limit is not None, _count)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compile(key)
        sql, slots, converters = compiled
        values = [
            constant if name is None else params[name] if index is None else params[name][index]
            for name, index, constant in slots
        ]
        connection = connections[alias]
        if datetimes:
            adapt = connection.ops.adapt_datetimefield_value
            values = [adapt(v) if isinstance(v, datetime) else v for v in values]
        if limit is not None:
            values += [limit, offset]
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            rows = cursor.fetchall()
        if converters:
            rows = [list(row) for row in rows]
            for row in rows:
                for pos, convs, expression in converters:
                    value = row[pos]
                    for convert in convs:
                        value = convert(value, expression, connection)
                    row[pos] = value
        return rows

    def _compile(self, key: tuple) -> tuple:
        alias, shape, limited, count = key
        placeholders, expected = {}, {}
        for name, length in shape:
            if length is None:
                mark = f"{_MARK}{name}"
                placeholders[name] = mark
                expected[mark] = (name, None)
            else:
                marks = [f"{_MARK}{name}:{i}" for i in range(length)]
                placeholders[name] = marks
                expected.update({mark: (name, i) for i, mark in enumerate(marks)})
        queryset = self._build(**placeholders)
        compiler = queryset.query.get_compiler(using=alias)
        sql, sql_params = compiler.as_sql()
        slots, seen = [], set()
        for param in sql_params:
            if isinstance(param, str) and param in expected:
                slots.append((*expected[param], None))
                seen.add(param)
            else:
                slots.append((None, None, param))  # a constant of the query (a status...)
        missing = set(expected) - seen
        if missing or queryset.query.low_mark or queryset.query.high_mark is not None:
            raise ValueError(f"cannot compile {self._build}: parameters changed or lost {missing}")
        if limited:
            sql += " LIMIT %s OFFSET %s"
        if count:
            sql, converters = f"SELECT COUNT(*) FROM ({sql}) counted", []
        elif not self._convert:
            converters = []
        else:
            fields = [column[0] for column in compiler.select[: compiler.col_count]]
            converters = [
                (pos, convs, expression)
                for pos, (convs, expression) in compiler.get_converters(fields).items()
            ]
        compiled = (sql, slots, converters)
        if len(self._compiled) >= _MAX_SHAPES:
            self._compiled.clear()
        self._compiled[key] = compiled
        return compiled
