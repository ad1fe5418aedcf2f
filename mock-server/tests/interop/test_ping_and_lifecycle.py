"""The unsigned connectivity check Duo documents, and the server's own start/stop contract."""

import json
import signal
import socket
import ssl
import time
import urllib.request

import pytest


def test_ping_is_unsigned(serve):
    ready = serve("default.toml")
    request = urllib.request.Request(ready["base_url"] + "/auth/v2/ping")  # no Authorization
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert response.headers.get_content_type() == "application/json"
        body = json.loads(response.read())
    assert set(body) == {"stat", "response"}
    assert body["stat"] == "OK"
    assert set(body["response"]) == {"time"}
    assert type(body["response"]["time"]) is int
    assert abs(body["response"]["time"] - time.time()) < 10


def test_ping_over_tls_with_the_generated_ca(serve):
    ready = serve("default.toml", tls=True)
    context = ssl.create_default_context(cafile=ready["ca_cert"])
    with urllib.request.urlopen(ready["base_url"] + "/auth/v2/ping", timeout=10,
                                context=context) as response:
        body = json.loads(response.read())
    assert body["stat"] == "OK" and type(body["response"]["time"]) is int


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_server_stops_gracefully_and_frees_its_port(servers, admin_for, sig):
    server = servers.new("users-1.toml")
    admin = admin_for(server.ready)
    assert len(admin.get_users()) == 1
    assert server.stop(sig) == 0, server.log_tail()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.ready["port"]), timeout=2).close()
