"""Which webhook URLs may be called: no private, loopback or link-local receivers.

A receiver inside our own network could be a database, a metadata service or the api
itself, so the api refuses such URLs at creation and the worker checks again, on the
addresses it actually connects to, at every delivery (a name can resolve elsewhere
later: DNS rebinding). TGFLOWS_WEBHOOK_ALLOW_PRIVATE=true lifts the rule (`tgflows dev`
sets it, so a receiver on this machine can be tried).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedUrl(ValueError):
    """The URL is malformed or leads to an address webhooks may not reach."""


def refused_address(address: Address) -> bool:
    """True for every address that is not a public unicast one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return bool(
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def parse(url: str) -> tuple[str, int]:
    """The host and port of an http(s) URL; RefusedUrl when it is not one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise RefusedUrl(f"url is not valid: {err}") from None
    if parts.scheme not in ("http", "https"):
        raise RefusedUrl("url must start with http:// or https://")
    if not parts.hostname:
        raise RefusedUrl("url must name a host")
    if parts.username or parts.password:
        raise RefusedUrl("url must not carry credentials; use the signing secret")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def resolve(host: str, port: int) -> list[Address]:
    """Every address the host resolves to (an address literal resolves to itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as err:
        raise RefusedUrl(f"url's host {host!r} does not resolve: {err}") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check_addresses(host: str, addresses: list[Address], *, allow_private: bool) -> None:
    if not addresses:
        raise RefusedUrl(f"url's host {host!r} has no address")
    if allow_private:
        return
    for address in addresses:
        if refused_address(address):
            raise RefusedUrl(
                f"url's host {host!r} resolves to {address}, a private, loopback or "
                "link-local address; webhooks may only call public addresses "
                "(TGFLOWS_WEBHOOK_ALLOW_PRIVATE=true allows them)"
            )


async def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse a URL whose host resolves to any address webhooks may not reach."""
    host, port = parse(url)
    check_addresses(host, await resolve(host, port), allow_private=allow_private)
