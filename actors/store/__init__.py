"""Storage: SQLAlchemy 2 models, queries and migrations (SQLite and PostgreSQL).

``Base`` is here for plugins: their tables share its metadata, so the check that the
migrations match the models covers them too.
"""

from actors.store import models, models_accounts, models_links, models_practice
from actors.store.models import Base

__all__ = ["Base", "models", "models_accounts", "models_links", "models_practice"]
