"""Storage: SQLAlchemy 2 models, queries and migrations (SQLite and PostgreSQL).

``Base`` is here for plugins: their tables share its metadata, so the check that the
migrations match the models covers them too; so are ``JobState`` and ``StrEnumColumn``, for a
plugin's queue of retried jobs.

The model modules besides ``models`` load with the modules that use them, not here: a
command declares and maps only the classes of the tables it touches (``copub publish``
skips accounts, digests, peers' health and who-knows: each mapped class costs start-up
time, and the first query configures every class declared). What needs every table
(the migrations and their tests) calls :func:`actors.store.db.load_models`.
"""

from actors.store import models
from actors.store.models import Base
from actors.store.states import FINISHED_JOBS, PENDING_JOBS, JobState, StrEnumColumn

__all__ = [
    "FINISHED_JOBS",
    "PENDING_JOBS",
    "Base",
    "JobState",
    "StrEnumColumn",
    "models",
]
