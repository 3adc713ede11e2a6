"""SSRF guard: URL and address checks, and the resolver that checks every DNS answer."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from node.federation.ssrf import SafeResolver, UnsafeAddressError, check_address, check_url

ISSUE = "Kula federation issue: SSRF guard"

REFUSED_ALWAYS = [
    "ftp://example.org/actor",
    "file:///etc/passwd",
    "gopher://example.org/",
    "javascript:alert(1)",
    "//example.org/actor",
    "example.org/actor",
    "http://user:pass@example.org/",
    "http://user@example.org/",
    "http://example.org@127.0.0.1/",
    "http:///path",
    "http://",
    "http://exa mple.org/",
    "http://example.org/a b",
    "http://example.org\\@evil/",
    "http://ex%61mple.org/",
    "http://-bad-.example.org/",
    "http://a..b/",
    "http://example.org:99999/",
    "http://example.org:0/",
    "http://[::1/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://[ff02::1]/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://[fe80::1%25eth0]/",
]

# Every spelling of a non-public address; refused unless private networks are allowed.
PRIVATE_SPELLINGS = [
    "http://127.0.0.1/",
    "http://127.8.9.10:8080/x",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://198.18.0.1/",
    "http://[::1]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[fe80::1]/",
    "http://[fec0::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::127.0.0.1]/",
    "http://[64:ff9b::a00:1]/",
    "http://[2002:7f00:1::]/",
    "http://[2002:c0a8:101::1]/",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    "http://[2001:db8::1]/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://printer.local/",
    "http://metadata.google.internal/",
    "http://intranet/",
    "http://ｌｏｃａｌｈｏｓｔ/",
]

# Spellings resolvers read as IPv4 but that are not a canonical dotted quad: never fetched.
LEGACY_IPV4 = [
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://127.1/",
    "http://127.0.1/",
    "http://0177.0.0.1/",
    "http://017700000001/",
    "http://0x7f.0x0.0x0.0x1/",
    "http://134744072/",
    "http://1.2.3.4.5/",
    "http://example.123/",
]


@pytest.mark.spec(ISSUE)
@pytest.mark.parametrize("url", REFUSED_ALWAYS + LEGACY_IPV4)
@pytest.mark.parametrize("allow_private", [False, True])
def test_refused_whatever_the_network_setting(url: str, allow_private: bool) -> None:
    with pytest.raises(UnsafeAddressError):
        check_url(url, allow_private=allow_private)


@pytest.mark.spec(ISSUE)
@pytest.mark.parametrize("url", PRIVATE_SPELLINGS)
def test_private_addresses_refused_by_default(url: str) -> None:
    with pytest.raises(UnsafeAddressError):
        check_url(url, allow_private=False)


@pytest.mark.spec(ISSUE)
@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8081/actor", "http://[::1]/", "http://localhost/", "http://10.1.2.3/",
     "http://[::ffff:192.168.0.1]/"],
)
def test_private_addresses_allowed_in_development(url: str) -> None:
    assert check_url(url, allow_private=True).startswith("http://")


@pytest.mark.spec(ISSUE)
@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("HTTPS://Example.ORG/users/a?x=1#frag", "https://example.org/users/a?x=1"),
        ("https://example.org:443", "https://example.org/"),
        ("http://example.org:80/a", "http://example.org/a"),
        ("https://example.org:8443/a", "https://example.org:8443/a"),
        ("https://example.org./a", "https://example.org/a"),
        ("https://bücher.example/", "https://xn--bcher-kva.example/"),
        ("https://8.8.8.8/", "https://8.8.8.8/"),
        ("https://[2606:4700:0::1]/", "https://[2606:4700::1]/"),
        ("https://[::ffff:8.8.8.8]/", "https://[::ffff:808:808]/"),
        ("https://[2002:808:808::1]/", "https://[2002:808:808::1]/"),
        ("https://[64:ff9b::808:808]/", "https://[64:ff9b::808:808]/"),
    ],
)
def test_public_urls_are_normalised(url: str, normalised: str) -> None:
    assert check_url(url, allow_private=False) == normalised


@pytest.mark.spec(ISSUE)
@pytest.mark.parametrize("address", ["0.0.0.0", "224.0.0.251", "255.255.255.255", "::", "ff02::1"])
def test_multicast_unspecified_and_broadcast_never_allowed(address: str) -> None:
    with pytest.raises(UnsafeAddressError):
        check_address(ipaddress.ip_address(address), allow_private=True)


class FakeDns(AbstractResolver):
    """Answers from a fixed table, as a hostile or rebinding DNS server would."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        return [
            ResolveResult(
                hostname=host, host=address, port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0, flags=socket.AI_NUMERICHOST,
            )
            for address in self.answers[host]
        ]

    async def close(self) -> None:
        return None


@pytest.mark.spec(ISSUE)
@pytest.mark.parametrize(
    "answers",
    [["127.0.0.1"], ["93.184.216.34", "10.0.0.7"], ["::1"], ["169.254.169.254"],
     ["fe80::1%2"], ["::ffff:127.0.0.1"], []],
)
async def test_resolver_refuses_when_any_answer_is_unsafe(answers: list[str]) -> None:
    dns = FakeDns({"evil.example": answers})
    resolver = SafeResolver(allow_private=False, inner=dns)
    with pytest.raises(UnsafeAddressError):
        await resolver.resolve("evil.example", 443)
    assert dns.asked == ["evil.example"]


@pytest.mark.spec(ISSUE)
async def test_resolver_passes_public_answers_through() -> None:
    dns = FakeDns({"good.example": ["93.184.216.34", "2606:2800:220:1::1"]})
    resolver = SafeResolver(allow_private=False, inner=dns)
    results = await resolver.resolve("good.example", 443)
    assert [r["host"] for r in results] == ["93.184.216.34", "2606:2800:220:1::1"]


@pytest.mark.spec(ISSUE)
async def test_resolver_allows_loopback_in_development_only() -> None:
    dns = FakeDns({"dev.example": ["127.0.0.1"]})
    assert await SafeResolver(allow_private=True, inner=dns).resolve("dev.example", 80)
    with pytest.raises(UnsafeAddressError):
        await SafeResolver(allow_private=False, inner=dns).resolve("dev.example", 80)
