"""Journal: the requests a running fake answered (its control API's journal), with the filters and
assertions a connector's test wants. Each entry is the server's JSON object as a dict; fields the
helpers do not use pass through untouched."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any, Union
from urllib.parse import parse_qsl

Entry = dict[str, Any]
StatusFilter = Union[int, Collection[int], None]


class Journal(list[Entry]):
    """A list of journal entries (dicts with ``seq``, ``unix_ms``, ``method``, ``path``, ``query``,
    ``integration``, ``status``, ``duo_code``, ``fault``, ``latency_us``, …), oldest first."""

    def requests(
        self,
        path: str | None = None,
        status: StatusFilter = None,
        method: str | None = None,
    ) -> Journal:
        """The entries for ``path`` (exact, or a pattern where ``*`` matches any run of
        characters, as in a scenario's fault rules), answered with ``status`` (one code or a
        collection such as ``range(400, 500)``) and sent with ``method``; ``None`` matches all."""
        matches_path = _path_matcher(path)
        wanted_status = _status_set(status)
        return Journal(
            entry
            for entry in self
            if matches_path(entry.get("path", ""))
            and (wanted_status is None or entry.get("status") in wanted_status)
            and (method is None or entry.get("method", "").upper() == method.upper())
        )

    def assert_no_page_read_twice(self) -> None:
        """Fails if an integration got the same page twice: a successful GET of the same path with
        the same parameters (``offset``, ``limit``, …, in any order). Retries of failed requests
        do not count. Fails too when the journal has no successful GET at all: nothing was read,
        so the assertion would say nothing."""
        seen: dict[tuple[Any, ...], Entry] = {}
        repeats: list[str] = []
        reads = 0
        for entry in self:
            if entry.get("method") != "GET" or not 200 <= entry.get("status", 0) < 300:
                continue
            reads += 1
            key = (
                entry.get("integration"),
                entry.get("path"),
                tuple(sorted(parse_qsl(entry.get("query", ""), keep_blank_values=True))),
            )
            first = seen.setdefault(key, entry)
            if first is not entry:
                repeats.append(
                    f"{_describe(entry)} (#{entry.get('seq')}) was already read as "
                    f"#{first.get('seq')}"
                )
        if reads == 0:
            raise AssertionError(
                f"no successful GET in the journal ({len(self)} entries): nothing was read"
            )
        if repeats:
            raise AssertionError(
                f"{len(repeats)} page(s) read twice:\n  " + "\n  ".join(repeats)
            )

    def assert_backoff_after_429(self, min_s: float = 1) -> None:
        """Fails unless, after every 429 answer, the same integration sent nothing for at least
        ``min_s`` seconds: its next request that arrived after the 429 was answered must arrive
        ``min_s`` or more later (requests already in flight then do not count). A 429 from a
        fault rule is answered before the signature is read, so its entry names no integration:
        then any next request counts. Fails too when the journal holds no 429 at all, which
        would make the assertion say nothing."""
        ordered = sorted(self, key=lambda e: e.get("seq", 0))
        answered_429 = [e for e in ordered if e.get("status") == 429]
        if not answered_429:
            raise AssertionError(
                f"no 429 answer in the journal ({len(self)} entries): nothing to check"
            )
        too_soon: list[str] = []
        for limited in answered_429:
            answered_ms = limited["unix_ms"] + limited.get("latency_us", 0) / 1000
            following = next(
                (
                    e
                    for e in ordered
                    if e.get("seq", 0) > limited.get("seq", 0)
                    and _maybe_same_caller(e, limited)
                    and e["unix_ms"] >= answered_ms
                ),
                None,
            )
            if following is None:
                continue  # the client gave up after this 429
            waited_s = (following["unix_ms"] - answered_ms) / 1000
            if waited_s < min_s:
                too_soon.append(
                    f"{_describe(following)} (#{following.get('seq')}) came {waited_s:.3f} s "
                    f"after the 429 to {_describe(limited)} (#{limited.get('seq')})"
                )
        if too_soon:
            raise AssertionError(
                f"{len(too_soon)} request(s) less than {min_s} s after a 429:\n  "
                + "\n  ".join(too_soon)
            )


def _maybe_same_caller(entry: Entry, other: Entry) -> bool:
    """Same integration, or one of the two entries does not say which (it was not signed, or was
    answered before its signature was read)."""
    a, b = entry.get("integration"), other.get("integration")
    return a is None or b is None or a == b


def _path_matcher(path: str | None):
    if path is None:
        return lambda _candidate: True
    if "*" not in path:
        return lambda candidate: candidate == path
    pattern = re.compile(".*".join(re.escape(part) for part in path.split("*")) + r"\Z")
    return lambda candidate: pattern.match(candidate) is not None


def _status_set(status: StatusFilter) -> Collection[int] | None:
    if status is None:
        return None
    if isinstance(status, int):
        return (status,)
    return status if isinstance(status, (range, set, frozenset)) else tuple(status)


def _describe(entry: Entry) -> str:
    query = entry.get("query")
    target = f"{entry.get('path')}?{query}" if query else f"{entry.get('path')}"
    who = entry.get("integration") or "an unknown integration"
    return f"{entry.get('method')} {target} by {who}"
