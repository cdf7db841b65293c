"""RFC 8941 Structured Field Values for RFC 9421 and RFC 9530, over the ``http-sfv`` library.

Parses Dictionaries whose members are Items or Inner Lists (``Signature-Input``,
``Signature``, ``Content-Digest``) into small frozen values, and serialises Inner Lists
back (the ``@signature-params`` line). Malformed input raises :class:`StructuredFieldError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from http_sfv.dictionary import Dictionary as SfDictionary
from http_sfv.item import InnerList as SfInnerList
from http_sfv.item import Item as SfItem
from http_sfv.item import ser_bare_item
from http_sfv.types import Token as SfToken

BareItem = int | float | str | bytes | bool


class StructuredFieldError(ValueError):
    """The header is not a valid structured field."""


class Token(str):
    """An sf-token (serialised without quotes), as opposed to an sf-string."""

    __slots__ = ()


Params = dict[str, BareItem]


@dataclass(frozen=True, slots=True)
class Item:
    value: BareItem
    params: Params = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InnerList:
    items: tuple[Item, ...]
    params: Params = field(default_factory=dict)


Member = Item | InnerList


def _bare(value: object) -> BareItem:
    if isinstance(value, SfToken):
        return Token(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool | int | float | str | bytes):
        return value
    raise StructuredFieldError(f"unsupported structured value {type(value).__name__}")


def _params(params: object) -> Params:
    assert isinstance(params, dict)
    return {str(key): _bare(value) for key, value in params.items()}


def _member(value: object) -> Member:
    if isinstance(value, SfInnerList):
        return InnerList(
            tuple(Item(_bare(i.value), _params(i.params)) for i in value),
            _params(value.params),
        )
    if isinstance(value, SfItem):
        return Item(_bare(value.value), _params(value.params))
    raise StructuredFieldError("unexpected dictionary member")


def parse_dictionary(value: str) -> dict[str, Member]:
    """Parse an sf-dictionary; raises StructuredFieldError."""
    parsed = SfDictionary()
    try:
        parsed.parse(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError, IndexError, TypeError) as exc:
        raise StructuredFieldError(f"invalid structured field: {exc or 'malformed'}") from exc
    return {str(key): _member(member) for key, member in parsed.items()}


def _wire(value: BareItem) -> object:
    if isinstance(value, Token):
        return SfToken(value)
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def serialize_bare_item(value: BareItem) -> str:
    return str(ser_bare_item(_wire(value)))  # type: ignore[arg-type]


def serialize_params(params: Params) -> str:
    out = []
    for key, value in params.items():
        out.append(f";{key}" if value is True else f";{key}={serialize_bare_item(value)}")
    return "".join(out)


def serialize_inner_list(inner: InnerList) -> str:
    items = " ".join(
        serialize_bare_item(item.value) + serialize_params(item.params) for item in inner.items
    )
    return f"({items}){serialize_params(inner.params)}"
