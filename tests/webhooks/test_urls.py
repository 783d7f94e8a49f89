"""Which receiver addresses webhooks refuse (pure, no traffic), and the delivery-time
check on the addresses a connection would use."""

from __future__ import annotations

import ipaddress

import pytest

from activities.webhooks import CheckedResolver, signature
from db.webhook_urls import RefusedUrl, check_url, refused_address
from tests.webhooks.receiver import verify


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.1",
        "224.0.0.1",
    ],
)
def test_refused(address: str) -> None:
    assert refused_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_allowed(address: str) -> None:
    assert not refused_address(ipaddress.ip_address(address))


async def test_connection_time_check_refuses_a_name_resolving_to_loopback() -> None:
    with pytest.raises(RefusedUrl):
        await CheckedResolver(allow_private=False).resolve("localhost", 80)
    assert await CheckedResolver(allow_private=True).resolve("localhost", 80)


async def test_allow_private_lifts_the_rule() -> None:
    await check_url("http://127.0.0.1:9200/x", allow_private=True)
    with pytest.raises(RefusedUrl):
        await check_url("http://127.0.0.1:9200/x", allow_private=False)


def test_signature_verifies_as_documented() -> None:
    import time

    body = b'{"id":"e1"}'
    header = signature("whsec_abc", int(time.time()), body)
    assert verify("whsec_abc", header, body)
    assert not verify("whsec_other", header, body)
    assert not verify("whsec_abc", header, body + b" ")
