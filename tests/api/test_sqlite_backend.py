"""allmine/sqlite_backend's cursor: the `%s` → `?` rewrite is Django's, kept per query text.

Runs whatever the suite's own database is, on an in-memory SQLite connection of its own."""

import sqlite3
from contextlib import closing

import pytest
from django.db.backends.sqlite3.base import SQLiteCursorWrapper as DjangosCursor
from django.db.utils import ConnectionHandler

from allmine.sqlite_backend import base

QUERIES = [
    "SELECT %s",
    "SELECT %s || '%%' || %s",
    "SELECT '%%s', %s WHERE 1 = %s",
    'SELECT "a"."b" AS "a__b" FROM "a" WHERE "a"."c" IN (%s, %s, %s) LIMIT %s OFFSET %s',
]


def djangos(query: str) -> str:
    """Django's own cursor's rewrite."""
    with closing(sqlite3.connect(":memory:")) as database:
        return database.cursor(factory=DjangosCursor).convert_query(query)


@pytest.mark.parametrize("query", QUERIES)
def test_the_rewrite_is_djangos(query):
    assert base.qmark_query(query) == djangos(query)
    assert base.qmark_query(query) == djangos(query)  # and stays so from the cache


def test_a_query_is_rewritten_once_and_a_long_one_each_time():
    query = "SELECT %s AS kept_once"
    base.qmark_query(query)
    hits = base._cached_qmark.cache_info().hits
    base.qmark_query(query)
    assert base._cached_qmark.cache_info().hits == hits + 1

    long_query = "SELECT " + ", ".join(["%s"] * (base.QMARK_CACHE_MAX_LENGTH // 3))
    size = base._cached_qmark.cache_info().currsize
    assert base.qmark_query(long_query) == djangos(long_query)
    assert base._cached_qmark.cache_info().currsize == size


@pytest.mark.django_db  # lets any connection open (pytest-django blocks them all)
def test_queries_through_the_backend_answer_as_djangos():
    memory = {"ENGINE": "allmine.sqlite_backend", "NAME": ":memory:"}
    connections = ConnectionHandler({"default": memory})
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            assert isinstance(cursor.cursor, base.SQLiteCursorWrapper)
            cursor.execute("SELECT %s || '%%', '%%s', %s", ["a", 2])
            assert cursor.fetchone() == ("a%", "%s", 2)
            cursor.execute("SELECT %(x)s || %(y)s", {"x": "named ", "y": "marks"})
            assert cursor.fetchone() == ("named marks",)
    finally:
        connection.close()
