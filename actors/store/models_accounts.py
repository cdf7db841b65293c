"""Rows of the console: accounts and the communities they coordinate, one-time setup and
invitation links, sessions, failed sign-ins, passkeys, WebAuthn challenges and the audit
log. Secrets are stored only as SHA-256 (links, sessions, challenges) or Argon2id
(passwords); the audit log copies names so that it outlives what it names."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from actors.store.models import Base
from federation.clock import utcnow

ROLES = ("admin", "coordinator")


class AccountRow(Base):
    """A person who signs in to the console: an ``admin`` (every community) or a
    ``coordinator`` (the communities of ``account_communities``)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    # Argon2id (PHC string); None until set through a setup link, or for passkeys only
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    # the fediverse actor the person moderates with (in the ``moderators`` collections)
    actor_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    # WebAuthn user handle (base64url of random bytes), made with the first passkey
    webauthn_user_id: Mapped[str | None] = mapped_column(String(128), default=None, unique=True)
    # ask for a passkey after the password
    passkey_second_factor: Mapped[bool] = mapped_column(default=False)
    # failed sign-ins before this no longer count (a sign-in, an admin's reset link)
    throttle_reset_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountCommunityRow(Base):
    """A coordinator's community."""

    __tablename__ = "account_communities"
    __table_args__ = (UniqueConstraint("account_id", "community_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InviteRow(Base):
    """A one-time link: ``setup`` (an existing account sets its password: the first admin,
    a reset) or ``coordinator`` (a new or signed-in person takes on ``community_id``)."""

    __tablename__ = "account_invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), default=None, index=True
    )
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), default=None, index=True
    )
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class SessionRow(Base):
    """A signed-in browser. The cookie holds a random id; only its SHA-256 is here."""

    __tablename__ = "account_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    # the session's CSRF token, carried by every form it posts
    csrf_token: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class SigninFailureRow(Base):
    """A failed sign-in (never the password tried): counted per name and per address."""

    __tablename__ = "signin_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class PasskeyRow(Base):
    """A WebAuthn credential of an account."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    # base64url of the credential id (at most 1023 bytes)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(100), default="")
    transports: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class ChallengeRow(Base):
    """A WebAuthn ceremony under way (``register``, ``signin`` or ``second_factor``, the
    last one after a correct password), found by the SHA-256 of a random key."""

    __tablename__ = "webauthn_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), default=None, index=True
    )
    challenge: Mapped[str | None] = mapped_column(String(128), default=None)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class AuditRow(Base):
    """Who did what, when, from where, in which community."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_community", "community_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None, index=True
    )
    # the account's name then, or "(command line)"
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL"), default=None
    )
    community_slug: Mapped[str | None] = mapped_column(String(63), default=None)
    detail: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(64), default="")
