"""Passkeys (WebAuthn, the ``webauthn`` library): registered by a signed-in person, used
instead of a password or after it (``Account.passkey_second_factor``).

A ceremony is two requests: the options (a fresh challenge, stored in
``webauthn_challenges`` under the SHA-256 of a random key the browser holds) and the
browser's answer, checked against that challenge, which is used once and lives
``CEREMONY_TIME``. The relying party is the console's own origin (``base_url``); browsers
allow passkeys only on a domain name (not an IP address), over https or on localhost."""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from actors.errors import Forbidden
from actors.store import accounts, signins
from actors.store.db import AsyncSession
from actors.store.models_accounts import AccountRow, ChallengeRow, PasskeyRow
from actors.store.tokens import token_hash
from federation.origins import web_origin

if TYPE_CHECKING:
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

# The ``webauthn`` library is imported where a ceremony needs it: importing any part of it
# loads all of it (its attestation formats, X.509 and ASN.1: about 7 MB), which a process
# that never sees a passkey (``copub worker``, most CLI commands) should not carry.

CEREMONY_TIME = timedelta(minutes=5)
REGISTER, SIGNIN, SECOND_FACTOR = "register", "signin", "second_factor"
KEY_BYTES = 32
MAX_KEY_LENGTH = 100
NAME_MAX = 100
PASSKEYS_MAX = 20  # per account
# what a malformed answer may raise inside the library, besides its own errors
MALFORMED_BUILTIN = (ValueError, TypeError, KeyError, AttributeError, IndexError)


def _malformed() -> tuple[type[Exception], ...]:
    """What checking a malformed answer may raise: the library's errors and the above."""
    from webauthn.helpers.exceptions import WebAuthnException

    return (WebAuthnException, *MALFORMED_BUILTIN)


class PasskeyProblem(Forbidden):
    """The ceremony failed; the message can be shown to the person."""


@dataclass(frozen=True)
class RelyingParty:
    id: str  # the host name
    name: str
    origin: str

    @classmethod
    def of(cls, base_url: str) -> RelyingParty | None:
        """The console's relying party, or None where browsers allow no passkeys."""
        parts = urlsplit(base_url)
        host = parts.hostname or ""
        try:
            ipaddress.ip_address(host)
            return None
        except ValueError:
            pass
        if parts.scheme != "https" and host != "localhost":
            return None
        origin = web_origin(base_url)
        if origin is None:
            return None
        return cls(id=host, name=f"copub on {parts.netloc}", origin=origin)


def _response(credential: Any) -> dict[str, Any]:
    """The ``response`` member of a browser's answer (which must be an object)."""
    response = credential.get("response") if isinstance(credential, dict) else None
    if not isinstance(response, dict):
        raise PasskeyProblem("The passkey's answer is not complete. Try again.")
    return response


def _descriptor(row: PasskeyRow) -> PublicKeyCredentialDescriptor:
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.structs import AuthenticatorTransport, PublicKeyCredentialDescriptor

    transports = []
    for value in row.transports:
        try:
            transports.append(AuthenticatorTransport(value))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(row.credential_id), transports=transports or None
    )


async def _challenge(
    session: AsyncSession, purpose: str, account_id: int | None, challenge: bytes, now: datetime
) -> str:
    from webauthn.helpers import bytes_to_base64url

    key = secrets.token_urlsafe(KEY_BYTES)
    await signins.add_challenge(
        session,
        key_hash=token_hash(key),
        purpose=purpose,
        account_id=account_id,
        challenge=bytes_to_base64url(challenge),
        expires_at=now + CEREMONY_TIME,
        now=now,
    )
    return key


async def _take(session: AsyncSession, key: str, purpose: str, now: datetime) -> ChallengeRow:
    """The ceremony's challenge, used up."""
    row = None
    if isinstance(key, str) and 0 < len(key) <= MAX_KEY_LENGTH:
        row = await signins.challenge_by_hash(session, token_hash(key))
    if row is None or row.purpose != purpose or row.challenge is None or row.expires_at <= now:
        raise PasskeyProblem("This sign-in took too long or was already used. Try again.")
    if not await signins.take_challenge(session, row.id):
        raise PasskeyProblem("This sign-in was already used. Try again.")
    return row


async def registration_options(
    session: AsyncSession, rp: RelyingParty, row: AccountRow, now: datetime
) -> tuple[str, dict[str, Any]]:
    """(the ceremony's key, the options for ``navigator.credentials.create``)."""
    from webauthn import generate_registration_options
    from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, options_to_json_dict
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    existing = await signins.passkeys_of(session, row.id)
    if len(existing) >= PASSKEYS_MAX:
        raise PasskeyProblem(f"An account has at most {PASSKEYS_MAX} passkeys.")
    if row.webauthn_user_id is None:
        row.webauthn_user_id = bytes_to_base64url(secrets.token_bytes(32))
        await session.flush()
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_name=row.username,
        user_id=base64url_to_bytes(row.webauthn_user_id),
        exclude_credentials=[_descriptor(p) for p in existing],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    key = await _challenge(session, REGISTER, row.id, options.challenge, now)
    return key, options_to_json_dict(options)


async def finish_registration(
    session: AsyncSession,
    rp: RelyingParty,
    row: AccountRow,
    *,
    key: str,
    credential: Any,
    name: str,
    now: datetime,
) -> PasskeyRow:
    from webauthn import verify_registration_response
    from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

    response = _response(credential)
    ceremony = await _take(session, key, REGISTER, now)
    if ceremony.account_id != row.id:
        raise PasskeyProblem("This passkey was started by another account. Try again.")
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(ceremony.challenge or ""),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except _malformed() as exc:
        raise PasskeyProblem("The passkey could not be checked. Try again.") from exc
    credential_id = bytes_to_base64url(verified.credential_id)
    if await signins.passkey_by_credential(session, credential_id) is not None:
        raise PasskeyProblem("This passkey is registered already.")
    transports = response.get("transports", [])
    return await signins.add_passkey(
        session,
        account_id=row.id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=(name.strip() or "Passkey")[:NAME_MAX],
        transports=[t for t in transports if isinstance(t, str)][:8]
        if isinstance(transports, list)
        else [],
        now=now,
    )


async def start_second_factor(session: AsyncSession, row: AccountRow, now: datetime) -> str:
    """After a right password: the key of the passkey step that must follow."""
    key = secrets.token_urlsafe(KEY_BYTES)
    await signins.add_challenge(
        session,
        key_hash=token_hash(key),
        purpose=SECOND_FACTOR,
        account_id=row.id,
        challenge=None,
        expires_at=now + CEREMONY_TIME,
        now=now,
    )
    return key


async def pending_second_factor(
    session: AsyncSession, key: str, now: datetime
) -> ChallengeRow | None:
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    row = await signins.challenge_by_hash(session, token_hash(key))
    if row is None or row.purpose != SECOND_FACTOR or row.expires_at <= now:
        return None
    return row


async def signin_options(
    session: AsyncSession, rp: RelyingParty, now: datetime, *, pending: ChallengeRow | None = None
) -> tuple[str | None, dict[str, Any]]:
    """Options for ``navigator.credentials.get``: any passkey of this server (then also
    the new ceremony's key), or, for a ``pending`` second factor, one of its account's."""
    from webauthn import generate_authentication_options
    from webauthn.helpers import bytes_to_base64url, options_to_json_dict
    from webauthn.helpers.structs import UserVerificationRequirement

    allow: list[PublicKeyCredentialDescriptor] = []
    if pending is not None and pending.account_id is not None:
        allow = [_descriptor(p) for p in await signins.passkeys_of(session, pending.account_id)]
    options = generate_authentication_options(
        rp_id=rp.id,
        allow_credentials=allow,
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    if pending is not None:
        pending.challenge = bytes_to_base64url(options.challenge)
        await session.flush()
        return None, options_to_json_dict(options)
    key = await _challenge(session, SIGNIN, None, options.challenge, now)
    return key, options_to_json_dict(options)


async def finish_signin(
    session: AsyncSession,
    rp: RelyingParty,
    *,
    key: str,
    credential: Any,
    now: datetime,
    purpose: str = SIGNIN,
) -> AccountRow:
    """The account whose passkey answered the ceremony of ``key``."""
    from webauthn import verify_authentication_response
    from webauthn.helpers import base64url_to_bytes

    response = _response(credential)
    ceremony = await _take(session, key, purpose, now)
    raw_id = credential.get("id")
    passkey = None
    if isinstance(raw_id, str) and len(raw_id) <= 1400:
        passkey = await signins.passkey_by_credential(session, raw_id)
    if passkey is None or (ceremony.account_id not in (None, passkey.account_id)):
        raise PasskeyProblem("This passkey is not registered here.")
    account = await accounts.get_account(session, passkey.account_id)
    if account is None:  # pragma: no cover - cascades with the account
        raise PasskeyProblem("This passkey is not registered here.")
    handle = response.get("userHandle")
    if handle and handle != account.webauthn_user_id:
        raise PasskeyProblem("This passkey belongs to another account.")
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(ceremony.challenge or ""),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
        )
    except _malformed() as exc:
        raise PasskeyProblem("The passkey could not be checked. Try again.") from exc
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = now
    await session.flush()
    return account
