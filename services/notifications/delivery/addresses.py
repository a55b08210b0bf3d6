"""Where a webhook may point: http(s) to a public address. Loopback, private, link-local,
reserved and multicast addresses are refused unless the deployment allows them
(NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE, for a receiver inside the cluster): a user must not
make the service call its own neighbours. Checked when a webhook is registered and again
before every delivery, on the addresses the name resolves to then (a name may change)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

MAX_URL = 2000


def url_problem(url: str) -> str | None:
    """What is wrong with the URL itself, or None."""
    if len(url) > MAX_URL:
        return f"must be at most {MAX_URL} characters"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "must be an http or https URL"
    if not parts.hostname:
        return "must name a host"
    if parts.username or parts.password:
        return "must not carry credentials"
    return None


def address_problem(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    closed = (
        ip.is_loopback,
        ip.is_private,
        ip.is_link_local,
        ip.is_reserved,
        ip.is_multicast,
        ip.is_unspecified,
    )
    return f"points to a non-public address ({ip})" if any(closed) else None


async def destination_problem(url: str, *, allow_private: bool) -> str | None:
    """What refuses delivery to `url` now, or None."""
    problem = url_problem(url)
    if problem is not None or allow_private:
        return problem
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except OSError as exc:
        return f"does not resolve: {exc}"
    for *_, sockaddr in found:
        problem = address_problem(str(sockaddr[0]))
        if problem is not None:
            return problem
    return None
