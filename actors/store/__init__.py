"""Storage: SQLAlchemy 2 models, queries and migrations (SQLite and PostgreSQL).

``Base`` is here for plugins: their tables share its metadata, so the check that the
migrations match the models covers them too; so are ``JobState`` and ``StrEnumColumn``, for a
plugin's queue of retried jobs.
"""

from actors.store import (
    models,
    models_accounts,
    models_digests,
    models_links,
    models_moderation,
    models_peers,
    models_practice,
    models_values,
    models_whoknows,
)
from actors.store.models import Base
from actors.store.states import FINISHED_JOBS, PENDING_JOBS, JobState, StrEnumColumn

__all__ = [
    "FINISHED_JOBS",
    "PENDING_JOBS",
    "Base",
    "JobState",
    "StrEnumColumn",
    "models",
    "models_accounts",
    "models_digests",
    "models_links",
    "models_moderation",
    "models_peers",
    "models_practice",
    "models_values",
    "models_whoknows",
]
