"""Storage: SQLAlchemy 2 models, queries and migrations (SQLite and PostgreSQL)."""
