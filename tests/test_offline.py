"""The offline guard refuses non-local connections and allows loopback."""
import socket
import threading
import urllib.request

import pytest

from reprobook import offline


def test_guard_is_installed_for_the_whole_test_session():
    assert offline.installed()


@pytest.mark.parametrize("target", [("93.184.216.34", 80), ("8.8.8.8", 53), ("2606:4700::1111", 443)])
def test_connections_to_the_network_fail_loudly(target):
    family = socket.AF_INET6 if ":" in target[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        with pytest.raises(offline.NetworkAccessError, match="reprobook runs offline"):
            s.connect(target)


def test_name_lookups_and_downloads_fail_loudly():
    with pytest.raises(offline.NetworkAccessError):
        socket.getaddrinfo("pypi.org", 443)
    with pytest.raises(Exception, match="reprobook runs offline"):
        urllib.request.urlopen("https://example.com/data.tar.gz", timeout=5)


def test_loopback_stays_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted = []
    t = threading.Thread(target=lambda: accepted.append(server.accept()))
    t.start()
    with socket.create_connection(("localhost", port), timeout=5):
        t.join(5)
    assert accepted
    accepted[0][0].close()
    server.close()
