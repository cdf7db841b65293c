"""Errors that carry the HTTP status a peer should see."""

from __future__ import annotations


class FederationError(Exception):
    """Base error: ``http_status`` and a human ``reason`` for the JSON body."""

    http_status = 400

    def __init__(self, reason: str, *, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if http_status is not None:
            self.http_status = http_status


class BadRequest(FederationError):
    http_status = 400


class SignatureError(FederationError):
    """The request's signature is missing, malformed or does not verify."""

    http_status = 401


class Forbidden(FederationError):
    http_status = 403


class NotFound(FederationError):
    http_status = 404


class Gone(FederationError):
    http_status = 410


class PayloadTooLarge(FederationError):
    http_status = 413


class UnsupportedMediaType(FederationError):
    http_status = 415


class FetchError(FederationError):
    """A remote document could not be fetched or was not acceptable."""

    http_status = 502


class UnsafeAddress(FetchError):
    """The target resolves to an address we are not allowed to contact."""

    http_status = 400
