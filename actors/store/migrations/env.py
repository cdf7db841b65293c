"""Alembic environment: migrations run on the connection copub hands in."""

from __future__ import annotations

from alembic import context

from actors.store.db import load_models
from actors.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - copub always passes its own connection
    raise RuntimeError("run migrations through `copub migrate`")

load_models()  # every model module, adapters' too: autogenerate compares their tables
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
