"""Storage: SQLAlchemy 2 models, queries and migrations (SQLite and PostgreSQL)."""

from actors.store import models, models_links, models_practice

__all__ = ["models", "models_links", "models_practice"]
