"""``IN (...)`` lists are sent in a few lengths (actors/store/db.py): each length is a
statement every connection prepares and keeps, so lists of every length from 1 to
hundreds (the hosts of a relay's followers) grew a server's memory for as long as it ran."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import bindparam, column, event, insert, select, table, text, tuple_

from actors.store.db import PADDED_UP_TO, AsyncEngine, create_engine, padded

ROWS = 50
LONGEST = 300
T = table("padded_in", column("id"), column("v"))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE padded_in (id INTEGER PRIMARY KEY, v TEXT)"))
        await conn.execute(insert(T), [{"id": i, "v": f"v{i}"} for i in range(1, ROWS + 1)])
    yield engine
    await engine.dispose()


def test_padded_repeats_the_last_value_up_to_a_power_of_two() -> None:
    """Up to ``PADDED_UP_TO`` values; a longer list (rare) is sent as it was."""
    assert padded([]) == []
    assert padded([7]) == [7]
    assert padded([1, 2, 3]) == [1, 2, 3, 3]
    assert padded(list(range(8))) == list(range(8))
    assert len(padded(list(range(9)))) == 16
    assert len(padded(list(range(PADDED_UP_TO)))) == PADDED_UP_TO
    longer = list(range(PADDED_UP_TO + 1))  # padded, it could pass the parameter limit
    assert padded(longer) is longer


async def test_lists_of_every_length_share_a_few_statements(engine: AsyncEngine) -> None:
    """Lists of 0 to 300 values, through a query, its negation, a tuple comparison and a
    text statement's expanding parameter (given a list or a set): every answer right, in at
    most one statement per power of two (an empty list is a statement of its own); one per
    length before."""
    statements: set[str] = set()
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda _c, _cursor, statement, *_args: statements.add(statement),
    )
    by_text = text("SELECT id FROM padded_in WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    async with engine.connect() as conn:
        for n in range(LONGEST + 1):
            ids = list(range(n, 0, -1))  # the last value repeated is 1, found each time
            present = sorted(i for i in ids if i <= ROWS)
            assert sorted((await conn.scalars(select(T.c.id).where(T.c.id.in_(ids)))).all()) == (
                present
            )
            absent = (await conn.scalars(select(T.c.id).where(T.c.id.not_in(ids)))).all()
            assert sorted(absent) == [i for i in range(1, ROWS + 1) if i not in ids]
            pairs = [(i, f"v{i}") for i in ids]
            both = select(T.c.id).where(tuple_(T.c.id, T.c.v).in_(pairs))
            assert sorted((await conn.scalars(both)).all()) == present
            assert sorted((await conn.scalars(by_text, {"ids": ids})).all()) == present
            if ids:  # any collection: a set is a list in no order
                assert sorted((await conn.scalars(by_text, {"ids": set(ids)})).all()) == present
    lengths = LONGEST.bit_length() + 2  # 1, 2, 4, ... 512, and the empty list
    assert len(statements) <= 4 * lengths, f"{len(statements)} statements for 4 queries"
