"""The states a row moves through, one ``StrEnum`` per state column, and the column type
that stores them.

The values are the strings the tables have always held, so no migration is needed, and a
member compares equal to its string. :class:`StrEnumColumn` stores the value and hands
back the member, so ``row.state`` is typed and an unknown state is refused when it is written.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import String
from sqlalchemy.types import TypeDecorator


class FollowerState(StrEnum):
    """A remote actor following a community (``followers.state``)."""

    PENDING = "pending"  # waiting for a moderator (a closed community)
    ACCEPTED = "accepted"  # receives what the community sends


class LinkState(StrEnum):
    """Our community following a remote Group (``links.state``)."""

    PENDING = "pending"  # Follow sent, no answer yet
    ACCEPTED = "accepted"  # the Group's Accept came
    REJECTED = "rejected"  # the Group's Reject came


class InboxState(StrEnum):
    """An incoming activity kept before the 202 (``inbox_items.state``)."""

    PENDING = "pending"  # to process, or to try again at ``locked_until``
    DONE = "done"  # processed
    FAILED = "failed"  # given up


class JobState(StrEnum):
    """A retried job: a delivery (``deliveries.state``) or a plugin's job with the same
    life (the Discourse adapter's ``discourse_jobs.state``)."""

    QUEUED = "queued"  # never tried
    RETRYING = "retrying"  # tried, to try again at ``next_try_at``
    DONE = "done"  # landed
    FAILED = "failed"  # given up (an operator may retry it)


# the jobs a worker may still claim
PENDING_JOBS = (JobState.QUEUED, JobState.RETRYING)
# the jobs that are over
FINISHED_JOBS = (JobState.DONE, JobState.FAILED)


class ParticipantState(StrEnum):
    """A remote actor taking part in an event (``event_participants.state``)."""

    JOINED = "joined"


E = TypeVar("E", bound=StrEnum)


class StrEnumColumn(TypeDecorator[E], Generic[E]):
    """A ``String(length)`` column holding the values of the ``StrEnum`` ``members``: binds
    a member or its string (refusing any other), loads the member."""

    impl = String
    cache_ok = True

    def __init__(self, members: type[E], length: int = 16) -> None:
        super().__init__(length)
        self.members = members

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else self.members(value).value

    def process_result_value(self, value: Any, dialect: Any) -> E | None:
        return None if value is None else self.members(value)
