"""Which webhook URLs may be called: http(s) only, never this server, loopback, private or link-local addresses.

A receiver on such an address would let a staff account make the server call into its own network (SSRF).
WEBHOOK_ALLOW_HOSTS names hosts or networks allowed all the same (a receiver inside the province's network; the
fault tests' receiver on loopback). The check runs when a subscription is saved and again before every send, since
a name may later resolve elsewhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2000


class AddressRefused(ValueError):
    """Why a webhook URL is refused, in Vietnamese and English."""

    def __init__(self, message_vi: str, message_en: str):
        super().__init__(message_en)
        self.message_vi, self.message_en = message_vi, message_en


def allowed_networks(text: str) -> tuple[set[str], list]:
    """WEBHOOK_ALLOW_HOSTS: comma-separated host names, addresses or networks (127.0.0.1, 10.0.0.0/8, intranet)."""
    names, networks = set(), []
    for part in (piece.strip().lower() for piece in text.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            names.add(part)
    return names, networks


def parse_url(url: str) -> tuple[str, int]:
    """The host and port of a well-formed http(s) URL, or AddressRefused saying what is wrong."""
    url = url.strip()
    if not url:
        raise AddressRefused("Nhập địa chỉ URL nhận webhook.", "enter the URL that receives the webhooks")
    if len(url) > MAX_URL_LENGTH:
        raise AddressRefused(f"Địa chỉ URL dài quá {MAX_URL_LENGTH} ký tự.", f"the URL is over {MAX_URL_LENGTH} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise AddressRefused("Địa chỉ URL phải bắt đầu bằng http:// hoặc https://.", "the URL must start with http:// or https://")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise AddressRefused("Cổng (port) trong địa chỉ URL không hợp lệ.", "the URL's port is not valid") from None
    if not parts.hostname:
        raise AddressRefused("Địa chỉ URL thiếu tên máy chủ.", "the URL has no host name")
    if parts.username or parts.password:
        raise AddressRefused("Không đặt tên đăng nhập hay mật khẩu trong địa chỉ URL; dùng khóa bí mật để xác thực.",
                             "no user name or password in the URL: the secret signs every delivery")
    return parts.hostname.lower(), port


def _is_internal(address: ipaddress._BaseAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (address.is_loopback or address.is_private or address.is_link_local or address.is_multicast
            or address.is_reserved or address.is_unspecified)


def _resolve(host: str, port: int) -> list[ipaddress._BaseAddress]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise AddressRefused(f"Không tìm thấy máy chủ '{host}'.", f"the host {host!r} cannot be found") from None
    return [ipaddress.ip_address(entry[4][0].split("%")[0]) for entry in found]


def check_url_sync(url: str, base_url: str, allow_hosts: str) -> str:
    """The URL (trimmed) when a delivery may go there; AddressRefused otherwise. Resolves the host name."""
    host, port = parse_url(url)
    names, networks = allowed_networks(allow_hosts)
    own_host, own_port = parse_url(base_url)
    if (host, port) == (own_host, own_port):
        raise AddressRefused("Địa chỉ URL trỏ về chính máy chủ khảo sát này.", "the URL points at this survey server itself")
    if host in names:
        return url.strip()
    for address in _resolve(host, port):
        if any(address in network for network in networks):
            continue
        if _is_internal(address):
            raise AddressRefused(
                f"Địa chỉ URL trỏ vào mạng nội bộ hoặc chính máy chủ ({address}): không được phép.",
                f"the URL points at a loopback, private or link-local address ({address}): refused")
    return url.strip()


async def check_url(url: str, settings) -> str:
    """check_url_sync in a thread: resolving a name may take seconds and must not block the event loop."""
    return await asyncio.to_thread(check_url_sync, url, settings.base_url, settings.webhook_allow_hosts)
