"""The offline guard: any attempt to open a network connection fails loudly.

The book runs with no network: data comes from generators, from files inside installed packages, or from a
user's ``data_root``. The guard makes an accidental download (a torchvision ``download=True``, a hub
model) fail at once with a message that says so, instead of hanging or silently fetching.

Connections to loopback and Unix sockets stay allowed: Jupyter kernels talk to their client that way.
Tests install the guard in ``tests/conftest.py``; the runner sets ``REPROBOOK_OFFLINE=1`` and puts
``_offline_site`` on the kernel's ``PYTHONPATH``, whose ``sitecustomize`` installs it before any chapter
code runs.
"""
from __future__ import annotations

import ipaddress
import socket

ENV = "REPROBOOK_OFFLINE"
SITE_DIR = __import__("pathlib").Path(__file__).with_name("_offline_site")


class NetworkAccessError(ConnectionError):
    """Raised on any non-local network access while the offline guard is installed."""


_original = {}


def _is_local(host) -> bool:
    if host is None:
        return True
    host = host.decode() if isinstance(host, bytes) else str(host)
    if host in ("localhost", "localhost.localdomain", "", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(target) -> None:
    raise NetworkAccessError(
        f"network access to {target!r} refused: reprobook runs offline. Data must come from the package's "
        "generators, from files inside installed packages, or from a local data_root; nothing downloads.")


def _guarded_connect(self, address, *args):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        _refuse(address)
    return _original["connect"](self, address, *args)


def _guarded_connect_ex(self, address, *args):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        _refuse(address)
    return _original["connect_ex"](self, address, *args)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not _is_local(host):
        _refuse(host)
    return _original["getaddrinfo"](host, *args, **kwargs)


def install() -> None:
    """Refuse non-local connections and name look-ups in this process (idempotent)."""
    if _original:
        return
    _original["connect"] = socket.socket.connect
    _original["connect_ex"] = socket.socket.connect_ex
    _original["getaddrinfo"] = socket.getaddrinfo
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    socket.getaddrinfo = _guarded_getaddrinfo


def uninstall() -> None:
    if not _original:
        return
    socket.socket.connect = _original.pop("connect")
    socket.socket.connect_ex = _original.pop("connect_ex")
    socket.getaddrinfo = _original.pop("getaddrinfo")


def installed() -> bool:
    return bool(_original)
