"""ControlClient: HTTP(S) calls to a running fake's control API (``/__duo-mock/``), with the token
from its ready file, over the standard library alone."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any

from .error import DuoMockError

TOKEN_HEADER = "X-Duo-Mock-Token"


class ControlClient:
    """Sends control requests to ``control_url`` (``…/__duo-mock``), trusting ``ca_cert``."""

    def __init__(self, control_url: str, token: str, ca_cert: str | None, timeout: float) -> None:
        self._url = control_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        handlers: list = [urllib.request.ProxyHandler({})]  # loopback: never through a proxy
        if self._url.startswith("https:"):
            context = ssl.create_default_context(cafile=ca_cert)
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self._opener = urllib.request.build_opener(*handlers)

    def __repr__(self) -> str:  # never the token
        return f"ControlClient({self._url!r})"

    def call(self, method: str, route: str, body: bytes | None = None) -> Any:
        """The answer's JSON (``None`` for an empty answer); a refusal raises
        :class:`DuoMockError` with the server's ``error`` text and the HTTP status."""
        request = urllib.request.Request(
            f"{self._url}/{route.lstrip('/')}",
            data=body,
            method=method,
            headers={TOKEN_HEADER: self._token, "Accept": "application/json"},
        )
        try:
            with self._opener.open(request, timeout=self._timeout) as answer:
                payload = answer.read()
        except urllib.error.HTTPError as refusal:
            raise DuoMockError(_refusal_text(refusal), status=refusal.code) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise DuoMockError(f"{method} {route}: the fake did not answer: {reason}") from None
        return json.loads(payload) if payload.strip() else None


def _refusal_text(refusal: urllib.error.HTTPError) -> str:
    raw = refusal.read()
    try:
        return str(json.loads(raw)["error"])
    except (ValueError, KeyError, TypeError):
        text = raw.decode("utf-8", "replace").strip()
        status = f"{refusal.code} {refusal.reason}"
        return f"{status}: {text}" if text else status
