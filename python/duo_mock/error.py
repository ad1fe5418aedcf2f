"""DuoMockError: what the duo-mock binary or its control API refused, in its own words."""

from __future__ import annotations


class DuoMockError(Exception):
    """The fake could not be started or steered.

    The message is the binary's own: a bad scenario reads ``file:line:column: what is wrong``.
    ``returncode`` is the binary's exit code when it exited (2 for a bad scenario), ``status``
    the HTTP status when the control API refused a request.
    """

    def __init__(
        self,
        message: str,
        *,
        returncode: int | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.status = status
