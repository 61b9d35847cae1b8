"""Where webhooks may go, and how they are signed and retried: pure rules, no network."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from discovery.services.webhook_targets import TargetRefused, address_refusal, check_target
from discovery.services.webhooks import MAX_BACKOFF, backoff, sign


def _resolves_to(*addresses: str):  # type: ignore[no-untyped-def]
    return lambda _host, _port: list(addresses)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.7", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("224.0.0.251", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "not public"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_refusal_names_the_kind_of_internal_address(address: str, reason: str | None) -> None:
    assert address_refusal(address) == reason


def test_a_public_name_that_resolves_inside_the_network_is_refused() -> None:
    with pytest.raises(TargetRefused, match="private"):
        check_target("https://hooks.example.com/x", allow_hosts=[], resolver=_resolves_to("93.184.216.34", "10.0.0.1"))


def test_an_allow_listed_host_may_be_internal() -> None:
    target = check_target(
        "http://Receiver.internal:8080/in?x=1", allow_hosts=["receiver.internal"], resolver=_resolves_to("10.0.0.9")
    )
    assert (target.host, target.port, target.path, target.addresses) == (
        "receiver.internal",
        8080,
        "/in?x=1",
        ("10.0.0.9",),
    )


def test_a_public_https_target_gets_its_default_port() -> None:
    target = check_target("https://hooks.example.com", allow_hosts=[], resolver=_resolves_to("93.184.216.34"))
    assert (target.scheme, target.port, target.path) == ("https", 443, "/")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("gopher://example.com/", "only http and https"),
        ("http:///nohost", "no host"),
        ("http://u:p@example.com/", "credentials"),
        ("http://example.com:99999/", "port"),
    ],
)
def test_malformed_or_non_http_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(TargetRefused, match=message):
        check_target(url, allow_hosts=["example.com"], resolver=_resolves_to("93.184.216.34"))


def test_a_name_that_does_not_resolve_is_refused() -> None:
    def fail(_host: str, _port: int) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(TargetRefused, match="does not resolve"):
        check_target("https://nowhere.invalid/", allow_hosts=[], resolver=fail)


def test_signature_is_hmac_sha256_of_the_body_under_the_secret() -> None:
    body = b'{"event":"asset.changed"}'
    assert sign("k" * 16, body) == "sha256=" + hmac.new(b"k" * 16, body, hashlib.sha256).hexdigest()


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n, base=1.0) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert backoff(30, base=1.0) == MAX_BACKOFF
