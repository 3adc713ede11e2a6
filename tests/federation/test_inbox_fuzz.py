"""Property-based fuzzing of a real node's inbox.

Every example starts from a correctly signed delivery of an activity the node
has already accepted once, and changes ONE thing: a Signature parameter, the
keyId, the covered headers, the Date, the Digest, the Content-Type, the Host
or request target, a field line or the content coding, the RFC 9421 fields, or
the body. Whatever is changed, the answer must be a 4xx RFC 9457 problem, and
nothing may be stored. A mutation that happens to be harmless reaches the
duplicate check and gets 409, so even those examples must store nothing. Each
test first replays the holes found so far (``known``), then draws its share of
about 300 examples.

Hypothesis draws and shrinks the examples in a worker thread while the event
loop of the test keeps serving both nodes; each example is posted on that loop
(:func:`asyncio.run_coroutine_threadsafe`). Requests go over a raw socket so
that bytes aiohttp's client would refuse to send (non-UTF-8 octets, odd
targets) still reach the server. Bytes the server's HTTP parser itself refuses
(C0 controls, DEL, lines longer than 8190 bytes) never reach the application
and are not drawn. The seed is fixed: every run draws the same examples, and a
failure reports the shrunk request as it was sent.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import logging
import re
import time
import zlib
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, assume, example, given, note, seed, settings
from hypothesis import strategies as st

from node.keys import load_rsa_private
from node.services.actors import LocalActor
from node.web.problems import PROBLEM_BASE, PROBLEM_CONTENT_TYPE
from protocol.httpsig import sign_request
from protocol.httpsig.digest import make_digest_header
from tests.federation.harness import Node
from tests.federation.test_inbox_security import create, proposal, remote_member, stored_count

#: What a refused delivery may be answered with.
REFUSED = frozenset({400, 401, 403, 409, 413, 415, 422})

# Characters the server's HTTP parser lets through in a field value: everything
# but C0 controls (save HTAB) and DEL. Lone surrogates U+DC80..U+DCFF stand for
# raw octets that are not UTF-8 (they are sent with "surrogateescape").
_FIELD_CHAR = st.one_of(
    st.characters(codec="utf-8", exclude_categories=("Cc",)),
    st.sampled_from(["\t", "\udc80", "\udcc3", "\udcff"]),
)
_FIELD_TEXT = st.text(_FIELD_CHAR, max_size=40)
_ODD_TEXT = st.one_of(
    _FIELD_TEXT,
    st.sampled_from([
        "", " ", '"', "\\", ",", "=", '\\"', "é", "€", "ü.example", "\u202e", "\ufeff",
        "\udcff", "\U0001f600", "%00", "%ff", "(created)", "(request-target)", "١٢", "²",
    ]),
)
#: What a cavage ``headers`` parameter may name ("x-absent" is never sent).
_COVERABLE = ["(request-target)", "(created)", "(expires)", "host", "date", "digest",
              "content-type", "x-absent", "Date"]
_BIG_INTEGERS = st.one_of(
    st.integers(min_value=0, max_value=2**64),
    st.sampled_from([10**15 - 1, 10**15, 2**63, 2**64 + 1, 10**20, 10**308, 10**309, 10**400]),
)


@dataclass(frozen=True)
class Request:
    """One POST as it goes on the wire (field lines in order, repeats allowed)."""

    target: str
    fields: tuple[tuple[str, str], ...]
    body: bytes

    def with_field(self, name: str, value: str | None) -> Request:
        """Replace every ``name`` line with one holding ``value`` (none for ``None``)."""
        kept = tuple((k, v) for k, v in self.fields if k.lower() != name.lower())
        return replace(self, fields=kept if value is None else (*kept, (name, value)))

    def field(self, name: str) -> str:
        return next(v for k, v in self.fields if k.lower() == name.lower())

    def __repr__(self) -> str:
        # Short enough to read in a failure report, and enough to replay the request.
        body = self.body if len(self.body) <= 300 else self.body[:300] + b"..."
        return f"Request({self.target!r}, {self.fields!r}, {body!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis's printer
        printer.text(repr(self))

    def wire(self) -> bytes:
        lines = [f"POST {self.target} HTTP/1.1", *(f"{k}: {v}" for k, v in self.fields)]
        lines += [f"Content-Length: {len(self.body)}", "Connection: close", "", ""]
        return "\r\n".join(lines).encode("utf-8", "surrogateescape") + self.body


@dataclass(repr=False)
class Inbox:
    """Node ``a``'s inbox, with ``bob`` of node ``b`` as the correct signer."""

    a: Node
    b: Node
    bob: LocalActor
    key: rsa.RSAPrivateKey
    activity: dict[str, Any]
    loop: asyncio.AbstractEventLoop
    unhandled: list[logging.LogRecord] = field(default_factory=list)

    def __repr__(self) -> str:  # strategies print their arguments
        return f"Inbox({self.a.url})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def sign(
        self,
        activity: dict[str, Any] | None = None,
        *,
        body: bytes | None = None,
        target: str = "/inbox",
        fields: dict[str, str] | None = None,
        **options: Any,
    ) -> Request:
        """A delivery signed by bob; ``fields`` given here are signed as they are."""
        payload = json.dumps(activity or self.activity).encode() if body is None else body
        fields = fields or {}
        options.setdefault("key_id", self.bob.rsa_key_id)
        url = self.a.url + target
        base = {"Content-Type": "application/activity+json"}
        try:
            headers = sign_request(
                "POST", url, base | fields, payload, private_key=self.key, **options
            )
        except UnicodeEncodeError:
            # The signer cannot sign octets that are not UTF-8: sign without them, then add them.
            headers = sign_request("POST", url, base, payload, private_key=self.key, **options)
            headers |= fields
        return Request(target, tuple(headers.items()), payload)

    def refused(self, request: Request, allowed: frozenset[int] = REFUSED) -> None:
        """Post from the Hypothesis thread and check the answer and the database."""
        self.unhandled.clear()
        before = self._on_loop(stored_count(self.a))
        status, content_type, problem = self._on_loop(self._exchange(request))
        assert not self.unhandled, logging.Formatter().formatException(
            self.unhandled[0].exc_info or (None, None, None))
        assert status in allowed, (status, problem)
        assert content_type == PROBLEM_CONTENT_TYPE, (status, content_type, problem)
        assert problem["type"].startswith(PROBLEM_BASE) and problem["status"] == status, problem
        assert self._on_loop(stored_count(self.a)) == before

    async def fuzz(
        self, requests: st.SearchStrategy[Request], examples: int, *,
        known: Sequence[Request] = (), allowed: frozenset[int] = REFUSED,
    ) -> None:
        """Run the ``known`` requests (holes found before), then ``examples``
        drawn ones, through :meth:`refused`, off the event loop."""

        @settings(
            max_examples=examples, deadline=None, database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @seed(20251123)  # the same examples every run, whatever ports the nodes got
        @given(requests)
        def every_request_is_refused(request: Request) -> None:
            # Hypothesis would print how the request was built; this is what was sent.
            note(f"sent: {request!r}")
            self.refused(request, allowed)

        for request in known:
            every_request_is_refused = example(request)(every_request_is_refused)
        await asyncio.to_thread(every_request_is_refused)

    def _on_loop(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    async def _exchange(self, request: Request) -> tuple[int, str, Any]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.a.port)
        try:
            writer.write(request.wire())
            answer = await reader.read()
        finally:
            writer.close()
            await writer.wait_closed()
        head, _, body = answer.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines)
        content_type = headers.get("Content-Type", "").split(";")[0]
        status = int(status_line.split()[1])
        if content_type != PROBLEM_CONTENT_TYPE:
            return status, content_type, body.decode("utf-8", "replace")
        return status, content_type, json.loads(body)


@contextmanager
def _unhandled_errors(into: list[logging.LogRecord]) -> Iterator[None]:
    """Collect what problem_middleware logs as "unhandled error"."""

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == "unhandled error":
                into.append(record)

    handler = Collect(logging.ERROR)
    logger = logging.getLogger("kula.web")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


@pytest.fixture
async def inbox(tmp_path: Path) -> AsyncIterator[Inbox]:
    a, b = Node("a", tmp_path / "a"), Node("b", tmp_path / "b")
    await a.start()
    await b.start()
    try:
        bob = await remote_member(b, "bob")
        await remote_member(b, "carol")
        await a.member("alice")
        target = Inbox(
            a, b, bob, load_rsa_private(bob.rsa_private_pem),
            create(b, bob, proposal(b, bob)), asyncio.get_running_loop(),
        )
        first = await target._exchange(target.sign())
        assert first[0] == 202, first
        with _unhandled_errors(target.unhandled):
            yield target
    finally:
        await a.stop()
        await b.stop()


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _signature_params(request: Request) -> list[tuple[str, str]]:
    """The baseline Signature as ``(name, raw value with its quotes)`` pairs."""
    return re.findall(r'([A-Za-z]+)=("[^"]*")', request.field("Signature"))


def _join(params: Sequence[tuple[str, str]], separator: str = ",", equals: str = "=") -> str:
    return separator.join(f"{name}{equals}{value}" for name, value in params)


def _with_parameter(request: Request, parameter: str) -> Request:
    return request.with_field("Signature", request.field("Signature") + "," + parameter)


# --- draft-cavage Signature parameters ------------------------------------------------


@st.composite
def signature_parameters(draw: st.DrawFn, inbox: Inbox) -> Request:
    signed = inbox.sign()
    params = _signature_params(signed)
    names = [name for name, _ in params]
    index = draw(st.integers(0, len(params) - 1))
    name = names[index]
    odd_value = st.one_of(
        _ODD_TEXT.map(_quoted),
        _ODD_TEXT,  # unquoted
        _BIG_INTEGERS.map(str),
        st.sampled_from(['"', '"unterminated', '""', "", '"a"b"', '"\\"', "-1", "1.5", "0x10",
                         "9" * 5000, '"' + "9" * 5000 + '"', '"hmac-sha256"', '"ed25519"',
                         '"hs2019"', '"RSA-SHA256"', '"rsa-pss-sha512"', '"ecdsa-p256-sha256"']),
        st.lists(st.sampled_from([*_COVERABLE, "(foo)", "", "(created", "HOST"])).map(
            lambda names: _quoted(" ".join(names))),
    )
    mutation = draw(st.sampled_from([
        "value", "drop", "repeat", "rename", "extra", "timestamp", "separators", "wrap", "huge",
        "authorization",
    ]))
    if mutation == "value":
        params[index] = (name, draw(odd_value))
    elif mutation == "drop":
        del params[index]
    elif mutation == "repeat":
        again = draw(st.sampled_from([name, name.upper(), name.lower()]))
        params.insert(draw(st.integers(0, len(params))), (again, draw(odd_value)))
    elif mutation == "rename":
        params[index] = (draw(st.one_of(_ODD_TEXT, st.sampled_from(["keyid", "KEYID", "key id",
                                                                    "headers2", "Signature"]))),
                         params[index][1])
    elif mutation == "extra":
        extra = draw(st.sampled_from(["created", "expires", "nonce", "x", "é"]))
        params.insert(draw(st.integers(0, len(params))), (extra, draw(odd_value)))
    elif mutation == "timestamp":
        params.append((draw(st.sampled_from(["created", "expires"])), draw(st.one_of(
            st.sampled_from(["²", "١٢", "9" * 5000, "1" + "0" * 4300, "-1", "1.5", "", "0x1"]),
            _BIG_INTEGERS.map(str),
        ).flatmap(lambda number: st.sampled_from([number, _quoted(number)])))))
    elif mutation == "huge":
        params[index] = (name, _quoted(draw(st.sampled_from(["A", "é", "\udcff", "a "])) * 3000))
    if mutation == "separators":
        separator = draw(st.sampled_from([", ", " ,", ",,", ";", " ", "\t,", "", ", \t"]))
        equals = draw(st.sampled_from([" =", "= ", " = ", "==", ":"]))
        value = _join(params, separator, draw(st.sampled_from(["=", equals])))
    else:
        value = _join(params)
    if mutation == "wrap":
        value = draw(st.sampled_from(["Signature ", ",", " ", "x=1,", '"'])) + value + draw(
            st.sampled_from(["", ",", ", ", ",x", '"', "\\"]))
    if mutation == "authorization":
        scheme = draw(st.sampled_from(["Signature", "signature", "Bearer", "Signature  ", ""]))
        return signed.with_field("Signature", None).with_field("Authorization", f"{scheme} {value}")
    return signed.with_field("Signature", value)


async def test_odd_signature_parameters_are_refused(inbox: Inbox) -> None:
    signed = inbox.sign()
    await inbox.fuzz(signature_parameters(inbox), examples=45, known=[
        # Digits int() does not read, and more digits than it reads: were a ValueError.
        _with_parameter(signed, 'created="²"'),
        _with_parameter(signed, "expires=" + "9" * 5000),
        # A covered name with octets that are not UTF-8: the problem could not be encoded.
        signed.with_field("Signature", signed.field("Signature").replace(
            'headers="', 'headers="x\udcff ')),
    ])


# --- what a cavage signature covers, correctly signed --------------------------------


@st.composite
def signed_coverage(draw: st.DrawFn, inbox: Inbox) -> Request:
    # What the policy demands, sometimes short of one, then anything else.
    covered = draw(st.sampled_from([
        ["(request-target)", "host", "date", "digest"],
        ["(request-target)", "host", "(created)", "digest"],
        ["(request-target)", "host", "(created)", "(expires)", "digest"],
    ]))
    if draw(st.booleans()):
        del covered[draw(st.integers(0, len(covered) - 1))]
    covered += draw(st.lists(st.sampled_from(_COVERABLE), max_size=3))
    now = int(time.time())
    moments = st.one_of(
        st.sampled_from([now, now - 10, now + 10, now - 3600, now + 3600, 0, 1]),
        st.sampled_from([10**20, 10**308, 10**309, 10**400, 10**2000]),
        _BIG_INTEGERS,
    )
    created = draw(st.none() | moments)
    expires = draw(moments if "(expires)" in covered else st.none() | moments)
    algorithm = draw(st.sampled_from(["rsa-sha256", "hs2019"]))
    signed = inbox.sign(components=covered, created=created, expires=expires,
                        algorithm=algorithm, fields={"X-Absent": "1"})
    # Signed with the field present, then sent without it.
    return signed.with_field("X-Absent", None)


async def test_odd_coverage_and_timestamps_are_refused(inbox: Inbox) -> None:
    await inbox.fuzz(signed_coverage(inbox), examples=30, known=[
        # A covered created too large for a float: was an OverflowError.
        inbox.sign(components=["(request-target)", "host", "(created)", "digest"],
                   created=10**400),
    ])


# --- keyId ------------------------------------------------------------------------------


def key_ids(inbox: Inbox) -> st.SearchStrategy[str]:
    """Key ids on hosts that answer, or that are refused without a connection.

    A key id on a host that cannot be reached (connection refused, no DNS
    name) is answered 502 or 504 by design: the fetch may succeed later, and
    the sender is asked to retry. So none is drawn here.
    """
    own = inbox.bob.rsa_key_id
    return st.one_of(
        st.sampled_from([
            "bob", "main-key", "#main-key", f"acct:bob@{inbox.b.host}", "urn:uuid:1",
            inbox.bob.ed25519_key_id, inbox.bob.iri + "#ed25519-key",
            f"{inbox.a.url}/users/alice#main-key", f"{inbox.a.url}/users/nobody#main-key",
            f"{inbox.a.url}/actor#main-key", f"{inbox.b.url}/users/carol#main-key",
            f"{inbox.b.url}/users/nobody#main-key", f"{inbox.b.url}/inbox",
            f"{inbox.b.url}/.well-known/nodeinfo", inbox.bob.iri, own.upper(),
            own.replace("http://", "HTTP://"), own.replace("http://", "http://u@"),
            own.replace("#main-key", "#"), own.replace("#main-key", "#ü"), own + "?x",
            "http://[bad/users/bob", "http://[::1",
            f"http://127.0.0.1:{10**9}/users/bob", "http://127.0.0.1:-1/x", "http://:80/",
            "ftp://x/y", "//x/y", "http://",
            own + "é", own + "\udcff", own + " ", own * 20,
        ]),
        _ODD_TEXT.filter(bool),
        _ODD_TEXT.map(lambda text: own + text),
        _ODD_TEXT.map(lambda text: f"{inbox.b.url}/users/{text}#main-key"),
    )


async def test_odd_key_ids_are_refused(inbox: Inbox) -> None:
    await inbox.fuzz(key_ids(inbox).map(lambda key_id: inbox.sign(key_id=key_id)), examples=35,
                     known=[
                         # Octets that are not UTF-8: a UnicodeEncodeError in the key lookup.
                         inbox.sign(key_id=inbox.bob.rsa_key_id + "\udcff"),
                     ])


# --- Date, Digest, Content-Type, Host, request target ----------------------------------


def dates() -> st.SearchStrategy[str]:
    now = datetime.now(UTC)
    return st.one_of(
        _ODD_TEXT,
        st.sampled_from([
            "Mon, 01 Jan 0001 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
            "Fri, 31 Dec 9999 23:59:59 -2359", "Mon, 01 Jan 99999 00:00:00 GMT",
            "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",
            "Mon, 01 Jan 2024 00:00:00 +99999999999999999999", "Mon, 01 Jan 2024 25:61:61 GMT",
            now.isoformat(), str(int(now.timestamp())), format_datetime(now) + " GMT",
            format_datetime(now, usegmt=True).replace("GMT", "PST"),
            format_datetime(now, usegmt=True).replace(" ", "  "),
            format_datetime(now, usegmt=True) + ", " + format_datetime(now, usegmt=True),
            format_datetime(now, usegmt=True).replace("GMT", "GMT\u00a0"),
        ]),
        st.integers(-(10**12), 10**12).map(
            lambda shift: format_datetime(
                datetime.fromtimestamp(min(max(now.timestamp() + shift, -6e10), 2.5e11), UTC),
                usegmt=True,
            )
        ),
    )


async def test_odd_dates_are_refused(inbox: Inbox) -> None:
    await inbox.fuzz(
        dates().map(lambda date: inbox.sign(fields={"Date": date})), examples=20, known=[
            # A year or a zone offset of many digits: was an OverflowError.
            inbox.sign(fields={"Date": "Mon, 01 Jan 99999999999999999999 00:00:00 GMT"}),
            inbox.sign(fields={"Date": "Mon, 01 Jan 2024 00:00:00 +99999999999999999999"}),
        ],
    )


def digests(body: bytes) -> st.SearchStrategy[str]:
    good = make_digest_header(body)
    wrong = make_digest_header(body + b" ")
    raw = good.removeprefix("SHA-256=")
    return st.one_of(
        _ODD_TEXT,
        _ODD_TEXT.map(lambda text: "SHA-256=" + text),
        st.sampled_from([
            "MD5=" + base64.b64encode(b"x" * 16).decode(), "SHA=" + raw, "UNIXsum=1",
            "SHA-512=" + raw, "sha-256=" + raw + "==", "SHA-256=" + raw[:-1], "SHA-256",
            "SHA-256=", "=" + raw, ",", f"{good}, {wrong}", f"{wrong}, {good}",
            f"{good},MD5=x", f"MD5=x,{good}", f"{good},SHA-256={raw}", good.lower() + "é",
            good.replace("=", "\udcff", 1), f"{good},{good}", "SHA-256=" + raw * 100,
            "SHA-256=" + base64.urlsafe_b64encode(base64.b64decode(raw)).decode() + "-_",
        ]),
    )


async def test_odd_digests_are_refused(inbox: Inbox) -> None:
    body = inbox.sign().body
    await inbox.fuzz(digests(body).map(lambda d: inbox.sign(fields={"Digest": d})), examples=20)


def content_types() -> st.SearchStrategy[str]:
    media = st.sampled_from([
        "application/activity+json", "application/ld+json", "application/json", "text/plain",
        "multipart/form-data", "application/x-www-form-urlencoded", "*/*", "application/",
        "/json", "application", "", "APPLICATION/ACTIVITY+JSON", "application/activity+json+x",
    ])
    return st.one_of(
        _ODD_TEXT,
        st.tuples(media, st.lists(_ODD_TEXT, max_size=3)).map(
            lambda parts: "; ".join([parts[0], *parts[1]])
        ),
        st.sampled_from([
            'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
            "application/activity+json; charset=latin-1", "application/activity+json;;;",
            'application/activity+json; charset="', "multipart/form-data; boundary=",
            "application/activity+json; charset=\udcff", "application/activity+json, text/html",
        ]),
    )


async def test_odd_content_types_are_refused(inbox: Inbox) -> None:
    signed = inbox.sign()
    await inbox.fuzz(
        content_types().map(lambda value: signed.with_field("Content-Type", value)), examples=15
    )


# The server's parser takes only visible ASCII in a request target; other octets go escaped.
_PERCENT_ENCODED = st.binary(min_size=1, max_size=6).map(
    lambda octets: "".join(f"%{octet:02X}" for octet in octets)
)


def targets(inbox: Inbox) -> st.SearchStrategy[tuple[str, dict[str, str]]]:
    """A request target, or a Host field (signed either way)."""
    visible = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="#/?%")
    odd = st.lists(st.text(visible, min_size=1, max_size=6) | _PERCENT_ENCODED,
                   min_size=1, max_size=4).map("".join)
    return st.one_of(
        odd.map(lambda query: ("/inbox?" + query, {})),
        odd.map(lambda name: (f"/users/{name}/inbox", {})),
        st.sampled_from(["/users/alice/inbox", "/users/bob/inbox", "/inbox/", "/users//inbox",
                         "/users/%ff/inbox", "/users/%00/inbox", "/users/a%2Fb/inbox"]).map(
            lambda target: (target, {})),
        st.one_of(_ODD_TEXT.filter(lambda text: text.strip()), st.sampled_from([
            "[bad", "[::1", "127.0.0.1:99999999", "example.com:-1", "user@host", "a b",
            inbox.b.host, "xn--", "ü.example", "\udcff",
        ])).map(lambda host: ("/inbox", {"Host": host})),
    )


async def test_odd_hosts_and_targets_are_refused(inbox: Inbox) -> None:
    # 404: an inbox nobody owns; 421: a Host that is not this node's.
    await inbox.fuzz(
        targets(inbox).map(lambda pair: inbox.sign(target=pair[0], fields=pair[1])),
        examples=25, allowed=REFUSED | {404, 421},
    )


@st.composite
def field_lines(draw: st.DrawFn, inbox: Inbox) -> Request:
    """A field line dropped, repeated, emptied or renamed in case; or a content coding."""
    signed = inbox.sign()
    # Without Host the server's parser refuses the request before the application.
    name = draw(st.sampled_from([k for k, _ in signed.fields if k != "Host"]))
    mutation = draw(st.sampled_from(["drop", "repeat", "empty", "case", "coding"]))
    if mutation == "drop":
        return signed.with_field(name, None)
    if mutation == "repeat":
        # A second Content-Type, like a second Host, is refused by the server's parser.
        assume(name != "Content-Type")
        again = draw(st.one_of(st.just(signed.field(name)), _ODD_TEXT))
        return replace(signed, fields=(*signed.fields, (name, again)))
    if mutation == "empty":
        return signed.with_field(name, "")
    if mutation == "case":
        return signed.with_field(name, None).with_field(
            draw(st.sampled_from([name.upper(), name.lower()])), signed.field(name))
    body = signed.body
    coded = draw(st.sampled_from([
        body, gzip.compress(body), zlib.compress(body), gzip.compress(body)[:-12],
        gzip.compress(body) + b"junk", b"\x1f\x8b" + body, gzip.compress(b" " * 2_000_000),
    ]))
    coding = draw(st.sampled_from(["gzip", "deflate", "GZIP", "identity", "gzip, deflate",
                                   "x-odd", "", "gzip, gzip"]))
    return replace(signed.with_field("Content-Encoding", coding), body=coded)


async def test_odd_field_lines_are_refused(inbox: Inbox) -> None:
    signed = inbox.sign()
    await inbox.fuzz(field_lines(inbox), examples=15, known=[
        # A body that does not decode as its content coding says: was a RequestPayloadError.
        signed.with_field("Content-Encoding", "gzip"),
        signed.with_field("Content-Encoding", "deflate"),
    ])


# --- RFC 9421 Signature-Input and Signature -----------------------------------------------

_COMPONENTS = [
    '"@method"', '"@target-uri"', '"@authority"', '"content-digest"', '"@status"',
    '"@query-param";name="x"', '"@query-param"', '"@query-param";name=1', '"@signature-params"',
    '"@path"', '"@query"', '"@scheme"', '"@request-target"', '"@method";bs', '"@path";x',
    '"date"', '"date";bs', '"date";sf', '"date";key="a"', '"content-digest";key="sha-256"',
    '"content-digest";key="md5"', '"content-digest";sf', '"content-digest";key=1',
    '"content-type";bs', '"content-type";bs;sf', '"host";req', '"host";req=1', '"Date"',
    '"x-absent"', '"x-extra"', '"x-extra";bs', '"x-extra";sf', '"x-extra";key="a"',
    '"signature"', '"signature-input";sf', '"signature";key="sig1"', '"@method"', "1", "?1",
    ":AAAA:", "token", '""', '"@foo"',
]


@st.composite
def rfc9421_fields(draw: st.DrawFn, inbox: Inbox) -> Request:
    signed = inbox.sign(scheme="rfc9421")
    now = int(time.time())
    sf_integer = st.one_of(st.sampled_from([now, now - 3600, now + 3600, 0, 10**15 - 1]),
                           st.integers(-(10**15) + 1, 10**15 - 1))
    param = st.one_of(
        sf_integer.map(lambda n: f"created={n}"), sf_integer.map(lambda n: f"expires={n}"),
        st.sampled_from([
            f'keyid="{inbox.bob.rsa_key_id}"', 'keyid="nobody"', "keyid=1", "keyid=:AAAA:",
            'alg="rsa-v1_5-sha256"', 'alg="hmac-sha256"', 'alg="none"', "alg=?1",
            "created=1.5", "created=?1", 'created="1"', 'nonce="x"', "tag=1", "x",
            f'keyid="{inbox.bob.rsa_key_id}é"', "expires=-1", f"created={now}",
            f'keyid="{inbox.bob.ed25519_key_id}"', 'alg="ed25519"', 'alg="rsa-pss-sha512"',
        ]),
    )
    mutation = draw(st.sampled_from(["input", "signature", "structured", "structured", "both"]))
    if mutation == "input":
        return signed.with_field("Signature-Input", draw(_ODD_TEXT))
    if mutation == "signature":
        return signed.with_field("Signature", draw(st.one_of(_ODD_TEXT, st.sampled_from([
            "sig1=:AAAA:", "sig1=:!!:", "sig1=1", "sig2=:AAAA:", "sig1=(:AAAA:)", "sig1=?0",
            "sig1=:" + "A" * 6000 + ":", "sig1=:AAAA:, sig1=:BBBB:", "",
        ]))))
    # What the policy demands, sometimes short of one, then anything else.
    components = ['"@method"', '"@target-uri"', '"@authority"', '"content-digest"']
    if draw(st.booleans()):
        del components[draw(st.integers(0, len(components) - 1))]
    components += draw(st.lists(st.sampled_from(_COMPONENTS), max_size=4))
    params = [f"created={now}", f'keyid="{inbox.bob.rsa_key_id}"'] if draw(st.booleans()) else []
    params += draw(st.lists(param, max_size=4))
    label = draw(st.sampled_from(["sig1", "sig2", "SIG1", "*", "a;b=1"]))
    value = f"{label}=({' '.join(components)})" + "".join(";" + p for p in params)
    if mutation == "both":
        value = draw(st.sampled_from(["", "sig0=(), "])) + value + draw(
            st.sampled_from(["", ", sig1=()", ", sig2=1", ","]))
    extra = draw(st.one_of(_ODD_TEXT, st.sampled_from(["€", "é", "\udcff", "a\U0001f600"])))
    return signed.with_field("Signature-Input", value).with_field("X-Extra", extra)


async def test_odd_rfc9421_fields_are_refused(inbox: Inbox) -> None:
    # Correctly signed, it reaches the duplicate check.
    await asyncio.to_thread(inbox.refused, inbox.sign(scheme="rfc9421"), frozenset({409}))
    covering_extra = (
        '"@method" "@target-uri" "@authority" "content-digest" "x-extra";bs'
    )
    signed = inbox.sign(scheme="rfc9421")
    await inbox.fuzz(rfc9421_fields(inbox), examples=50, known=[
        # A byte-sequence field beyond Latin-1: was a UnicodeEncodeError.
        signed.with_field("Signature-Input", f"sig1=({covering_extra});created={int(time.time())}"
                          f';keyid="{inbox.bob.rsa_key_id}"').with_field("X-Extra", "€"),
    ])


# --- the body -------------------------------------------------------------------------------

_JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**60), 2**60), _BIG_INTEGERS, st.text(st.characters(codec="utf-8"), max_size=20),
)
_JSON = st.recursive(
    _JSON_SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


def _nested(depth: int, leaf: Any = "x") -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


def odd_ids(inbox: Inbox) -> st.SearchStrategy[Any]:
    """Ids that must not be accepted for a new activity from bob."""
    base = inbox.b.url
    return st.one_of(
        _JSON_SCALARS.filter(lambda value: not isinstance(value, str)),
        st.text(st.characters(codec="utf-8"), max_size=20).map(lambda text: base + "/a b" + text),
        _ODD_TEXT.map(lambda text: "http://ü.example/" + text),
        st.sampled_from([
            "", "http://", "http://[bad/x", "http://[::1/x", "http://[::1]/x", f"{base}\t/x",
            "https://[fe80::1%25eth0]/x", "http://127.0.0.1:99999999/x", "urn:x:y",
            f"{inbox.a.url}/activities/x", "http://example.com:-1/x", "http://u@[x/y",
            "http://exa mple/x", {"id": f"{base}/x"}, [f"{base}/x"], "//x/y", f"{base}/\x00",
        ]),
    )


@st.composite
def bodies(draw: st.DrawFn, inbox: Inbox) -> Request:
    activity = json.loads(json.dumps(inbox.activity))
    obj = activity["object"]
    copy = json.loads(json.dumps(obj))
    paths: list[tuple[dict[str, Any], str]] = [
        (activity, name) for name in ("id", "actor", "type", "object", "@context", "to", "proof")
    ] + [(obj, name) for name in ("id", "type", "attributedTo", "proof", "publishes", "name")]
    mutation = draw(st.sampled_from(["field", "id", "drop", "document", "raw"]))
    if mutation == "document":
        document = draw(st.one_of(
            _JSON, st.integers(0, 40).map(_nested),
            st.sampled_from([[activity], [activity, activity], {"0": activity}, _nested(40),
                             _nested(31, activity), [None] * 10_001]),
        ))
        return inbox.sign(body=json.dumps(document).encode())
    if mutation == "raw":
        text = json.dumps(activity).encode()
        return inbox.sign(body=draw(st.sampled_from([
            text[:-1], b"\xef\xbb\xbf" + text, text + b"x", text.replace(b"{", b"{\"id\": 1, ", 1),
            text.replace(b'"Create"', b'"\\ud800"'), text.replace(b"Free", b"Fr\xffe"),
            text.replace(b'"type"', b'"t\\u0079pe"'), b"", b" ", b"null",
        ])))
    holder, name = draw(st.sampled_from(paths))
    if mutation == "drop":
        holder.pop(name, None)
    elif mutation == "id":
        holder[name] = draw(odd_ids(inbox))
    else:
        holder[name] = draw(st.one_of(_JSON, st.sampled_from([
            [copy], [copy, copy], {"id": copy}, [inbox.bob.iri, inbox.bob.iri], _nested(33),
            {"id": inbox.bob.iri, "type": "Person"}, {"type": "Create"}, 2**53, -(2**53) + 1,
            "Créate", "Like", ["Create", "Update"], "as:Create",
        ])))
    return inbox.sign(activity)


async def test_odd_bodies_are_refused(inbox: Inbox) -> None:
    activity, obj = inbox.activity, inbox.activity["object"]
    elsewhere = {**activity, "object": {**obj, "id": "http://x.example/1"}}
    here = {**activity, "object": {**obj, "id": f"{inbox.a.url}/listings/1"}}
    await inbox.fuzz(bodies(inbox), examples=45, known=[
        # Ids whose host urlsplit cannot read: were a ValueError.
        inbox.sign({**activity, "actor": "http://[bad/users/bob"}),
        inbox.sign({**activity, "id": "http://[bad/activities/1"}),
        inbox.sign({**activity, "object": {**obj, "id": "http://[x"}}),
        inbox.sign({**elsewhere, "object": {**elsewhere["object"], "attributedTo": "http://[x"}}),
        # U+0000 where storage is asked: a 500 on PostgreSQL.
        inbox.sign({**activity, "id": f"{inbox.b.url}/activities/\x00"}),
        inbox.sign({**activity, "id": f"{inbox.b.url}/activities/2", "type": "Cr\x00eate"}),
        inbox.sign({**here, "object": {**here["object"], "attributedTo": inbox.a.actor("\x00")}}),
    ])
