"""Fuzzing the header parsers: malformed input may only raise SignatureError / BadRequest."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from federation.errors import BadRequest, SignatureError
from federation.httpsig import (
    parse_signature_header,
    parse_signature_input,
    parse_signatures,
    prepare_request,
    sign_request,
    verify_request,
)
from federation.httpsig.structured import StructuredFieldError, parse_dictionary
from tests.federation.fedkit import KeyPair, StaticKeys, ed25519_pair, sign_rfc9421

ALLOWED = (SignatureError, BadRequest)
FUZZ_PAIR: KeyPair = ed25519_pair()  # fast to sign with: keeps the property test quick
FUZZ_SIGNER = FUZZ_PAIR.signer()
FUZZ = settings(
    max_examples=400,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the work tree
    suppress_health_check=[HealthCheck.too_slow],
)

# Text biased towards the characters these grammars care about.
header_text = st.text(
    alphabet=st.sampled_from(list('keyIdalgorithmsignatureheaders=",;:() *?-._/+0123456789@\t\\'))
    | st.characters(),
    max_size=200,
)
cavage_param = st.tuples(
    st.sampled_from(["keyId", "algorithm", "headers", "signature", "created", "expires", "x", ""]),
    st.one_of(header_text.map(lambda v: f'"{v}"'), st.integers().map(str), header_text),
)
cavage_header = st.lists(cavage_param, max_size=6).map(
    lambda pairs: ",".join(f"{name}={value}" for name, value in pairs)
)
sf_item = st.one_of(
    st.integers(-(10**15), 10**15).map(str),
    header_text.map(lambda v: '"' + v.replace("\\", "").replace('"', "") + '"'),
    st.binary(max_size=20).map(lambda b: ":" + base64.b64encode(b).decode() + ":"),
    st.sampled_from(["?0", "?1", "tok", "*", "1.5", "-0.25"]),
    header_text,
)
sf_params = st.lists(
    st.tuples(st.sampled_from(["created", "keyid", "alg", "expires", "X"]), sf_item), max_size=4
).map(lambda ps: "".join(f";{k}={v}" for k, v in ps))
inner_list = st.tuples(st.lists(sf_item, max_size=5), sf_params).map(
    lambda t: "(" + " ".join(t[0]) + ")" + t[1]
)
sf_dictionary = st.lists(
    st.tuples(st.sampled_from(["sig1", "sig2", "a", "Bad", "*x"]), st.one_of(inner_list, sf_item)),
    max_size=3,
).map(lambda ms: ", ".join(f"{k}={v}" for k, v in ms))


@FUZZ
@given(st.one_of(header_text, cavage_header))
def test_cavage_parser_only_raises_signature_errors(value: str) -> None:
    try:
        params = parse_signature_header(value)
    except ALLOWED:
        return
    assert params["keyid"]
    assert params["signature"]


@FUZZ
@given(st.one_of(header_text, sf_dictionary))
def test_signature_input_parser_only_raises_signature_errors(value: str) -> None:
    with contextlib.suppress(ALLOWED):
        parse_signature_input(value)


@FUZZ
@given(st.one_of(header_text, sf_dictionary))
def test_signature_parser_only_raises_signature_errors(value: str) -> None:
    with contextlib.suppress(ALLOWED):
        parse_signatures(value)


@FUZZ
@given(st.one_of(header_text, sf_dictionary))
def test_structured_field_parser_only_raises_its_error(value: str) -> None:
    with contextlib.suppress(StructuredFieldError):
        parse_dictionary(value)


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "get", "DELETE"]),
    signature=st.one_of(st.none(), cavage_header, header_text),
    signature_input=st.one_of(st.none(), sf_dictionary, header_text),
    rfc_signature=st.one_of(st.none(), sf_dictionary),
    date=st.one_of(st.none(), header_text, st.just("Tue, 14 Nov 2023 22:13:20 GMT")),
    digest=st.one_of(st.none(), header_text, st.just("SHA-256=abc"), st.just("sha-256=:YWJj:")),
    body=st.binary(max_size=50),
)
def test_whole_request_check_only_raises_signature_errors(
    method: str,
    signature: str | None,
    signature_input: str | None,
    rfc_signature: str | None,
    date: str | None,
    digest: str | None,
    body: bytes,
) -> None:
    headers = {"Host": "copub.example"}
    for name, value in [
        ("Signature", signature if signature_input is None else rfc_signature),
        ("Signature-Input", signature_input),
        ("Date", date),
        ("Digest", digest),
        ("Content-Digest", digest),
    ]:
        if value is not None:
            headers[name] = value
    with contextlib.suppress(ALLOWED):
        prepare_request(method, "/inbox", headers, body, now=1_700_000_000)
    keys = StaticKeys()  # knows no key: a well-formed request ends in a key lookup failure
    with contextlib.suppress(ALLOWED):
        asyncio.run(verify_request(method, "/inbox", headers, body, keys, now=1_700_000_000))


def test_pathological_headers_are_parsed_quickly() -> None:
    started = time.monotonic()
    for value in ['a="' * 5000, "," * 20000, 'keyId="' + "x" * 100_000 + '"', "(" * 10000]:
        for parser in (parse_signature_header, parse_signature_input, parse_signatures):
            with contextlib.suppress(ALLOWED):
                parser(value)
    assert time.monotonic() - started < 2


path_segment = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~%", min_size=1, max_size=12
)


@settings(max_examples=60, deadline=None, database=None)
@given(
    segments=st.lists(path_segment, min_size=1, max_size=4),
    query=st.one_of(st.none(), path_segment),
    body=st.one_of(st.none(), st.binary(max_size=300)),
    rfc9421=st.booleans(),
)
def test_any_signed_request_round_trips(
    segments: list[str], query: str | None, body: bytes | None, rfc9421: bool
) -> None:
    """Property: whatever the path, query and body, what we sign we verify."""
    target = "/" + "/".join(segments) + (f"?{query}" if query is not None else "")
    method = "GET" if body is None else "POST"
    sign = sign_rfc9421 if rfc9421 else sign_request
    headers = sign(method, f"https://copub.example{target}", {}, body, FUZZ_SIGNER)
    keys = StaticKeys().add(FUZZ_PAIR)
    verified = asyncio.run(verify_request(method, target, headers, body or b"", keys))
    assert verified.scheme == ("rfc9421" if rfc9421 else "cavage")
