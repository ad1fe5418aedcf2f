#!/usr/bin/env python3
"""Runs every walk-through of the project's Markdown files, the way a reader would type it.

What is run: every fenced block marked ```sh (or ```bash, ```shell) in every Markdown file git
knows in the repository (tracked, or new and not ignored), so a document added later is covered
without a change here. A file's blocks run in order in one bash session, as in one terminal:
variables and `cd` carry from one block to the next. A command that fails fails the walk-through
(as under `set -e`, with `set -u` and `pipefail`), and so does a block whose last command fails;
each block has a time limit (--timeout, default 60 s).

How a document marks a block, with an HTML comment on the line before its fence (blank lines may
come between; the comment does not show on a rendered page):

  <!-- walkthrough: skip (REASON) -->  not run, for a block that cannot run on a CI machine (a Duo
                                       tenant, minutes of benchmarks, a placeholder for the
                                       reader's own command). The reason is required; the run
                                       lists every skipped block with it.
  <!-- walkthrough: background -->     a command that runs until Ctrl-C (`duo-mock serve`), as in
                                       a second terminal: started in the background, and the next
                                       block waits until it is ready: until the file it names with
                                       `--ready-file FILE` exists, or, naming none, until it has
                                       printed a line. It must still run when the file's last block
                                       has run; then it is stopped, with everything it started.
  <!-- walkthrough: output -->         before the ```text block that shows what the sh block before
                                       it prints: each line shown must be printed, in that order
                                       (other lines may come between); `…` stands for any text and
                                       a number for any number (ports, times). Without this mark
                                       an output block is only an illustration.

A command that is meant to fail says so in a comment at the end of its (last) line:
`duo-connector check   # exits 1: …`; it must then exit with exactly that status.

What the runner maps, so that walk-throughs run hermetically against the debug builds CI already
has (README.md's "Tests" says the same):

  cargo run [--release] -p PKG [--bin BIN] --   the workspace's binary target/debug/BIN
                                                (duo-mock, duo-connector, duo-conformance)
  target/release/                               target/debug/
  cargo build --release, cargo test --release   the same without --release
  /tmp/                                         a folder made for this run (ready files and
                                                journals never meet another run's)
  the working directory                         a new folder holding links to the repository's
                                                top-level entries: relative paths read the
                                                repository, and files a walk-through writes stay
                                                in the folder; cargo itself runs in the repository
  PATH                                          target/debug first, as if the binaries were
                                                installed
  DUO_* variables of the caller                 removed

Usage: scripts/walkthroughs.py [FILE.md ...]   (default: every Markdown file)
       scripts/walkthroughs.py --list          (the blocks and their marks, nothing run)
       scripts/walkthroughs.py --self-test     (shows that it fails broken walk-throughs)
Exit status: 0 when every block that is not skipped ran as written, 1 otherwise, 2 bad usage.
"""

import argparse
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The workspace's packages whose binaries `cargo run -p PKG` stands for.
PACKAGE_BINARIES = {
    "mock-server": "duo-mock",
    "connector": "duo-connector",
    "conformance": "duo-conformance",
}

SHELL_LANGUAGES = {"sh", "bash", "shell"}
# Tools the documents use beside the workspace's own binaries, with their Debian packages.
TOOLS = {"jq": "jq", "curl": "curl"}

MARKER = re.compile(r"^\s*<!--\s*walkthrough:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^`\s]*)")
EXPECTED_EXIT = re.compile(r"\s#\s*exits\s+(\d+)\b.*$")
READY_FILE = re.compile(r"--ready-file[= ]+(\"[^\"]+\"|'[^']+'|\S+)")


@dataclass
class Block:
    doc: Path
    line: int  # of the opening fence, 1-based
    text: str
    language: str
    mark: str = ""  # "", "skip", "background", or "output" on the text block after one
    reason: str = ""
    expected: str = ""  # the output a `walkthrough: output` block shows for this one


@dataclass
class DocResult:
    doc: Path
    run: int = 0
    background: int = 0
    skipped: list = field(default_factory=list)
    failures: list = field(default_factory=list)


@dataclass
class Settings:
    """What every document's run shares."""

    root: Path  # the repository
    run_tmp: Path  # what /tmp/ stands for
    logs: Path  # each document's output, and each background block's
    env: dict
    timeout: float  # seconds a block may take


class MarkError(Exception):
    pass


def parse_blocks(doc: Path, shown: str):
    """Every fenced block of `doc` with the mark before it; MarkError for a mark that is wrong."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    blocks = []
    pending = None  # (line number, mark text) of a marker not yet given to a block
    i = 0
    while i < len(lines):
        line = lines[i]
        marker = MARKER.match(line)
        fence = FENCE.match(line)
        if marker:
            if pending:
                raise MarkError(f"{shown}:{pending[0]}: a walkthrough mark with no block after it")
            pending = (i + 1, marker.group(1))
            i += 1
            continue
        if not fence:
            if pending and line.strip():
                raise MarkError(f"{shown}:{pending[0]}: a walkthrough mark must come right before a block")
            i += 1
            continue
        indent, ticks, language = fence.group(1), fence.group(2), fence.group(3).lower()
        body = []
        j = i + 1
        while j < len(lines):
            stripped = lines[j].strip()
            if stripped.startswith(ticks[0] * len(ticks)) and stripped.strip(ticks[0]) == "":
                break
            body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j].lstrip())
            j += 1
        block = Block(doc=doc, line=i + 1, text="\n".join(body) + "\n", language=language)
        if pending:
            where = f"{shown}:{pending[0]}"
            block.mark, block.reason = parse_mark(pending[1], where)
            pending = None
            if block.mark == "output":
                runs = [b for b in blocks if b.language in SHELL_LANGUAGES]
                if language in SHELL_LANGUAGES or not runs or runs[-1].mark:
                    raise MarkError(
                        f"{where}: `walkthrough: output` goes before the ```text block that shows the "
                        f"output of the sh block before it (one that runs in the foreground)"
                    )
                runs[-1].expected = block.text
            elif language not in SHELL_LANGUAGES:
                raise MarkError(f"{where}: a walkthrough mark on a ```{language} block (only sh blocks run)")
        blocks.append(block)
        i = j + 1
    if pending:
        raise MarkError(f"{shown}:{pending[0]}: a walkthrough mark with no block after it")
    return [b for b in blocks if b.language in SHELL_LANGUAGES]


def parse_mark(text: str, where: str):
    found = re.fullmatch(r"(skip|background|output)\s*(?:\((.*)\))?", text)
    if not found:
        raise MarkError(f"{where}: unknown walkthrough mark {text!r} (skip (REASON), background or output)")
    mark, reason = found.group(1), (found.group(2) or "").strip()
    if mark == "skip" and not reason:
        raise MarkError(f"{where}: `walkthrough: skip` needs its reason: skip (why it cannot run here)")
    return mark, reason


def numbers_as_any(text: str) -> str:
    """A regular expression for `text` in which each number matches any number."""
    tokens = re.split(r"(-?\d+)", text)
    return "".join(r"-?\d+" if k % 2 else re.escape(token) for k, token in enumerate(tokens))


def output_mismatch(expected: str, actual: str):
    """None when every line of `expected` matches a line of `actual`, in order; else the first
    line that does not. `…` stands for any text, and a number for any number (ports, times)."""
    lines = actual.splitlines()
    at = 0
    for want in (l.rstrip() for l in expected.splitlines()):
        if not want.strip():
            continue
        pattern = ".*".join(map(numbers_as_any, want.split("…")))
        found = next((k for k in range(at, len(lines)) if re.fullmatch(pattern, lines[k].rstrip())), None)
        if found is None:
            return want
        at = found + 1
    return None


def map_text(text: str, root: Path, run_tmp: Path) -> str:
    """The mappings of the module's docstring, applied to a block."""

    def cargo_run(found):
        flags = found.group(1).split()
        package = binary = None
        k = 0
        while k < len(flags):
            if flags[k] in ("-p", "--package"):
                package = flags[k + 1]
                k += 2
            elif flags[k] == "--bin":
                binary = flags[k + 1]
                k += 2
            else:
                k += 1
        binary = binary or PACKAGE_BINARIES.get(package or "")
        if package not in PACKAGE_BINARIES or binary is None:
            return found.group(0)
        return f"{root}/target/debug/{binary}"

    flag = r"(?:--release|--locked|--quiet|-q|(?:-p|--package|--bin)\s+[\w-]+)"
    text = re.sub(rf"\bcargo run((?:\s+{flag})*)(?:\s+--(?=\s)|(?=\s*$))", cargo_run, text, flags=re.M)
    text = re.sub(r"\b(cargo (?:build|test)\b[^\n]*?)\s--release\b", r"\1", text)
    text = re.sub(r"\btarget/release/", "target/debug/", text)
    text = re.sub(r"(?<![\w./-])/tmp/", f"{run_tmp}/", text)
    return text


def expect_exits(text: str) -> str:
    """A command whose last line ends in `# exits N` must exit N: the shell checks it."""
    lines = text.split("\n")
    for last, line in enumerate(lines):
        found = EXPECTED_EXIT.search(line)
        if not found:
            continue
        first = last
        while first > 0 and lines[first - 1].rstrip().endswith("\\"):
            first -= 1
        command, comment = line[: found.start()], line[found.start():]
        lines[first] = "__wt_rc=0; " + lines[first] if first != last else "__wt_rc=0; " + command
        if first != last:
            lines[last] = command
        lines[last] += f' || __wt_rc=$?; __wt_expect {found.group(1)} "$__wt_rc" {first + 1}' + comment
    return "\n".join(lines)


# Read by bash before the first block: the error trap, the reports to the runner, cargo in the
# repository. Reports go to the file descriptor $__wt_fd as tab-separated lines.
PRELUDE = r"""
set -Euo pipefail
__wt_block=0
__wt_report() { local IFS=$'\t'; printf '%s\n' "$*" >&"$__wt_fd"; }
__wt_failed() { __wt_report err "$__wt_block" "$1" "${2//$'\n'/ }" "$3"; }
trap '__wt_failed $? "$BASH_COMMAND" "$LINENO"' ERR
__wt_expect() {
  if [ "$2" != "$1" ]; then __wt_report unexpected "$__wt_block" "$2" "$1" "$3"; fi
}
cargo() { (cd "$__wt_root" && command cargo "$@"); }
"""


class Session:
    """One bash session for one document, and the reports it sends back."""

    def __init__(self, workdir: Path, env: dict, log: Path):
        read_end, write_end = os.pipe()
        env = dict(env, __wt_fd=str(write_end))
        self.log_path = log
        self.log = open(log, "wb")
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            stdin=subprocess.PIPE,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            env=env,
            pass_fds=(write_end,),
            start_new_session=True,
        )
        os.close(write_end)
        self.reports = os.fdopen(read_end, "rb", buffering=0)
        self.buffer = b""
        self.closed = False  # the shell, and all it started, closed the report pipe
        self.lines_sent = 0  # bash's $LINENO counts the lines of everything sent
        self.send(PRELUDE)

    def send(self, text: str):
        self.lines_sent += text.count("\n")
        self.process.stdin.write(text.encode())
        self.process.stdin.flush()

    def next_report(self, deadline: float):
        """The next report line, split; None at the deadline or when the shell is gone."""
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if self.closed:
                try:
                    self.process.wait(timeout=min(left, 0.5))
                except subprocess.TimeoutExpired:
                    continue
                return None
            ready, _, _ = select.select([self.reports], [], [], min(left, 0.1))
            if ready:
                chunk = os.read(self.reports.fileno(), 65536)
                if not chunk:
                    self.closed = True
                self.buffer += chunk
            elif self.process.poll() is not None:
                return None
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode(errors="replace").split("\t")

    def output_since(self, offset: int, lines: int = 40) -> str:
        self.log.flush()
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
        tail = text.splitlines()[-lines:]
        return "\n".join("    | " + l for l in tail) if tail else "    (no output)"

    def output_size(self) -> int:
        self.log.flush()
        return self.log_path.stat().st_size

    def close(self):
        """Stops the shell and everything it started, Ctrl-C's way first (SIGTERM), then SIGKILL."""
        group = self.process.pid
        try:
            self.process.stdin.close()
        except OSError:
            pass
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                break
            end = time.monotonic() + grace
            while time.monotonic() < end and group_alive(group):
                self.process.poll()
                time.sleep(0.02)
            if not group_alive(group):
                break
        self.process.wait()
        self.reports.close()
        self.log.close()


def process_stat(pid: str):
    """(state, process group) of a process from /proc, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # pid (comm) state ppid pgrp …: comm may hold spaces, so split after its last ')'.
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[0], int(fields[2])


def group_alive(group: int) -> bool:
    """True while a process of the group runs. Zombies do not count: orphans are reparented to
    PID 1, which in a container may take its time to reap them."""
    if not Path("/proc").is_dir():
        try:
            os.killpg(group, 0)
            return True
        except ProcessLookupError:
            return False
    for entry in Path("/proc").iterdir():
        stat = process_stat(entry.name) if entry.name.isdigit() else None
        if stat and stat[1] == group and stat[0] != "Z":
            return True
    return False


def run_doc(doc: Path, shown: str, blocks, workdir: Path, settings: Settings):
    root, run_tmp, logs, timeout = settings.root, settings.run_tmp, settings.logs, settings.timeout
    result = DocResult(doc=doc)
    runnable = [b for b in blocks if b.mark != "skip"]
    result.skipped = [(f"{shown}:{b.line}", b.reason) for b in blocks if b.mark == "skip"]
    if not runnable:
        return result
    log = logs / (re.sub(r"[^\w.-]", "_", shown) + ".log")
    session = Session(workdir, dict(settings.env, __wt_root=str(root)), log)
    background = {}  # block number → block, of the blocks started in the background
    ended = {}  # background block number → exit status, when it ended

    def fail(block, what, since, bg_log=None):
        output = session.output_since(since)
        if bg_log is not None and bg_log.exists():
            lines = bg_log.read_text(errors="replace").splitlines()[-20:]
            output += "\n    its output:\n" + "\n".join("    | " + l for l in lines)
        result.failures.append(f"{shown}:{block.line}: {what}\n{output}")

    try:
        for number, block in enumerate(blocks, start=1):
            if block.mark == "skip":
                continue
            text = expect_exits(map_text(block.text, root, run_tmp))
            since = session.output_size()
            deadline = time.monotonic() + timeout
            # The block's text starts on the third line sent for it (after `__wt_block=` and `{`);
            # the mappings keep its lines, so $LINENO leads back to the document's line.
            first_line = session.lines_sent + 3

            def doc_line(lineno):
                return block.line + 1 + int(lineno) - first_line

            if block.mark == "background":
                bg_log = logs / f"{log.stem}.block-{block.line}.log"
                session.send(
                    f"__wt_block={number}\n{{ {{\n{text}\n}} </dev/null >'{bg_log}' 2>&1; "
                    f"__wt_report ended {number} $?; }} &\n__wt_report background {number} $!\n"
                )
                result.background += 1
            else:
                session.send(
                    f"__wt_block={number}\n{{\n{text}\n}} </dev/null\n__wt_report done {number} $?\n"
                )
            problems = []
            finished = False
            while not finished:
                report = session.next_report(deadline)
                if report is None:
                    if session.process.poll() is not None:
                        status = session.process.returncode
                        problems.append(f"the shell ended (status {status}) in this block")
                    else:
                        problems.append(
                            f"timed out after {timeout:g} s (a command that serves until Ctrl-C "
                            f"wants `<!-- walkthrough: background -->` before its block)"
                        )
                    break
                kind, owner = report[0], int(report[1])
                if kind == "ended":
                    ended[owner] = report[2]
                    if owner == number:
                        problems.append(
                            f"the background command ended (status {report[2]}) before it was ready"
                        )
                        finished = True
                    continue
                if owner != number:
                    if owner in background and kind == "err":
                        result.failures.append(
                            f"{shown}:{background[owner].line}: in the background, `{report[3]}` "
                            f"exited {report[2]}"
                        )
                    continue
                if kind == "err":
                    problems.append(f"line {doc_line(report[4])}: `{report[3]}` exited {report[2]}")
                elif kind == "unexpected":
                    problems.append(
                        f"the command of line {block.line + int(report[4])} exited {report[2]}, "
                        f"not {report[3]} as its `# exits {report[3]}` says"
                    )
                elif kind == "done":
                    if report[2] != "0" and not problems:
                        problems.append(f"its last command exited {report[2]}")
                    if block.expected and not problems:
                        session.log.flush()
                        with open(session.log_path, "rb") as f:
                            f.seek(since)
                            output = f.read().decode(errors="replace")
                        missing = output_mismatch(block.expected, output)
                        if missing is not None:
                            problems.append(f"its output has no line like the one shown: {missing}")
                    finished = True
                elif kind == "background":
                    background[number] = block
                    why = wait_until_ready(text, number, bg_log, session, ended, deadline, workdir)
                    if why:
                        problems.append(why)
                    finished = True
            if problems:
                fail(block, "; ".join(problems), since, bg_log if block.mark == "background" else None)
                return result
            result.run += 1
        # Everything in the background must have lasted the whole walk-through.
        time.sleep(0.05)
        while True:
            report = session.next_report(time.monotonic() + 0.05)
            if report is None:
                break
            if report[0] == "ended":
                ended[int(report[1])] = report[2]
        for number, block in background.items():
            if number in ended:
                result.failures.append(
                    f"{shown}:{block.line}: the background command ended (status {ended[number]}) "
                    f"before the walk-through did"
                )
    finally:
        session.close()
    return result


def wait_until_ready(text, number, bg_log, session, ended, deadline, workdir):
    """None once the background block is ready, else why not."""
    named = READY_FILE.search(text)
    ready_file = workdir / named.group(1).strip("'\"") if named else None
    while time.monotonic() < deadline:
        if ready_file is not None and ready_file.exists() and ready_file.stat().st_size > 0:
            return None
        if ready_file is None and bg_log.exists() and b"\n" in bg_log.read_bytes():
            return None
        report = session.next_report(time.monotonic() + 0.1)
        if report and report[0] == "ended":
            ended[int(report[1])] = report[2]
            if int(report[1]) == number:
                return f"the background command ended (status {report[2]}) before it was ready"
    what = f"its ready file {ready_file}" if ready_file else "its first line of output"
    return f"timed out after waiting for {what}"


def documents(root: Path):
    """Every Markdown file of the repository (git's view: tracked, or new and not ignored)."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "--cached", "--others", "--exclude-standard", "-z"]
            + ["--", "*.md"],
            check=True,
            capture_output=True,
        ).stdout.decode()
        names = sorted({n for n in listed.split("\0") if n})
        return [root / n for n in names if (root / n).is_file()]
    except (subprocess.CalledProcessError, FileNotFoundError):
        skip = {".git", "target", "node_modules", ".venv"}
        return sorted(p for p in root.rglob("*.md") if not skip.intersection(p.relative_to(root).parts))


def ensure_tools():
    missing = [package for tool, package in TOOLS.items() if shutil.which(tool) is None]
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"walkthroughs: installing {' '.join(missing)}", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        quiet = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=quiet)
    else:
        sys.exit(f"walkthroughs: the documents use {' '.join(missing)}; install it")


def link_farm(root: Path, workdir: Path):
    """The working directory: a link to each top-level entry of the repository."""
    workdir.mkdir(parents=True)
    for entry in root.iterdir():
        if entry.name != ".git":
            (workdir / entry.name).symlink_to(entry)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="Markdown files (default: every one)")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a block may take (default 60)")
    parser.add_argument("--no-build", action="store_true", help="do not build the workspace's binaries first")
    parser.add_argument("--list", action="store_true", help="list the blocks and their marks, run nothing")
    parser.add_argument("--run-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--self-test", action="store_true", help="show that broken walk-throughs fail")
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test()
    root = args.root.resolve()
    docs = [f.resolve() for f in args.files] if args.files else documents(root)

    parsed = []
    errors = []
    for doc in docs:
        shown = str(doc.relative_to(root)) if doc.is_relative_to(root) else str(doc)
        try:
            parsed.append((doc, shown, parse_blocks(doc, shown)))
        except MarkError as e:
            errors.append(str(e))
    if errors:
        for e in errors:
            print(f"walkthroughs: {e}", file=sys.stderr)
        return 1
    if args.list:
        for doc, shown, blocks in parsed:
            for b in blocks:
                mark = f"{b.mark} ({b.reason})" if b.reason else (b.mark or "run")
                print(f"{shown}:{b.line}: {mark}")
        return 0

    ensure_tools()
    if not args.no_build:
        packages = [a for p in PACKAGE_BINARIES for a in ("-p", p)]
        subprocess.run(["cargo", "build", "--quiet", "--locked", *packages, "--bins"], cwd=root, check=True)

    started = time.monotonic()
    run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix="walkthroughs-"))
    run_tmp, logs, farm = run_dir / "tmp", run_dir / "logs", run_dir / "work"
    run_tmp.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUO_")}
    env["PATH"] = f"{root}/target/debug{os.pathsep}{env.get('PATH', '')}"
    settings = Settings(root=root, run_tmp=run_tmp, logs=logs, env=env, timeout=args.timeout)
    results = []
    for index, (doc, shown, blocks) in enumerate(parsed):
        if not blocks:
            continue
        # Each document gets its own working directory, as a reader starting fresh would.
        workdir = farm / str(index)
        link_farm(root, workdir)
        results.append(run_doc(doc, shown, blocks, workdir, settings))

    failures = [f for r in results for f in r.failures]
    skipped = [s for r in results for s in r.skipped]
    ran = sum(r.run for r in results)
    in_background = sum(r.background for r in results)
    for r in results:
        status = "FAILED" if r.failures else "ok"
        print(f"{status:6} {r.doc.relative_to(root) if r.doc.is_relative_to(root) else r.doc}: "
              f"{r.run} run ({r.background} in the background), {len(r.skipped)} skipped")
    if skipped:
        print("skipped (their marks say why):")
        for where, reason in skipped:
            print(f"  {where}: {reason}")
    for f in failures:
        print(f"FAILED {f}")
    print(
        f"walkthroughs: {ran} blocks run ({in_background} in the background), {len(skipped)} skipped, "
        f"{len(failures)} failed, {len(results)} documents, {time.monotonic() - started:.1f} s"
    )
    if not args.run_dir:
        shutil.rmtree(run_dir, ignore_errors=True)
    return 1 if failures else 0


def self_test():
    """Runs the runner on small documents: a good one passes, each broken one fails as it should,
    and nothing started in the background outlives the run."""
    here = Path(__file__).resolve()
    serve = (
        "#!/usr/bin/env bash\n"
        "# A stand-in for `duo-mock serve`: ready after a moment, then serves until stopped.\n"
        'sleep 0.2; echo "{\\"pid\\": $$}" > "$2"; exec sleep 300\n'
    )
    good = """# A good walk-through

<!-- walkthrough: background (serves until Ctrl-C) -->
```sh
./serve.sh --ready-file /tmp/ready.json
```

```sh
pid=$(sed 's/[^0-9]//g' /tmp/ready.json)
export SERVED_BY="$pid"
echo "served by $pid on port 41873"; echo "a line between"; echo "done: 3 of 3 (0.2 s)"
```

<!-- walkthrough: output -->
```text
served by 123 on port 8443
done: … (1.5 s)
```

- In a list, indented:

  ```bash
  test -n "$SERVED_BY" && kill -0 "$SERVED_BY"
  false   # exits 1: a command meant to fail
  sh -c 'exit 3' \\
    --ignored   # exits 3
  ```

<!-- walkthrough: skip (needs a Duo tenant) -->
```sh
exit 9
```

```text
not a walk-through: exit 9
```
"""
    broken = {
        "a failing command in the middle": ("```sh\ntrue\nfalse\ntrue\n```\n", "`false` exited 1"),
        "a failing first command of an && list, last in its block": (
            "```sh\nfalse && true\n```\n",
            "its last command exited 1",
        ),
        "a wrong expected status": ("```sh\ntrue   # exits 1\n```\n", "exited 0, not 1"),
        "a block that hangs": ("```sh\nsleep 30\n```\n", "timed out after 2 s"),
        "an unset variable": ("```sh\necho \"$NOT_SET_ANYWHERE\"\n```\n", "the shell ended"),
        "a background command that dies before it is ready": (
            "<!-- walkthrough: background -->\n```sh\nsh -c 'exit 4' --ready-file /tmp/never.json\n```\n",
            "ended (status 4) before it was ready",
        ),
        "a background command that ends early": (
            "<!-- walkthrough: background -->\n```sh\necho ready; sleep 0.2\n```\n\n```sh\nsleep 0.6\n```\n",
            "before the walk-through did",
        ),
        "an output that differs from the one shown": (
            "```sh\necho 'tls  failed'\n```\n\n<!-- walkthrough: output -->\n```text\ntls  passed\n```\n",
            "its output has no line like the one shown: tls  passed",
        ),
        "an output mark after a block that is not run": (
            "<!-- walkthrough: skip (x) -->\n```sh\necho a\n```\n\n"
            "<!-- walkthrough: output -->\n```text\na\n```\n",
            "goes before the ```text block",
        ),
        "a skip without a reason": ("<!-- walkthrough: skip -->\n```sh\ntrue\n```\n", "needs its reason"),
        "an unknown mark": (
            "<!-- walkthrough: sometimes -->\n```sh\ntrue\n```\n",
            "unknown walkthrough mark",
        ),
        "a mark on a block that is not sh": (
            "<!-- walkthrough: skip (x) -->\n```python\n1\n```\n",
            "only sh blocks run",
        ),
    }
    failed = []
    with tempfile.TemporaryDirectory(prefix="walkthroughs-self-test-") as scratch:
        scratch = Path(scratch)

        def run(name, text, extra=()):
            root = scratch / re.sub(r"\W+", "-", name)
            root.mkdir()
            (root / "serve.sh").write_text(serve)
            (root / "serve.sh").chmod(0o755)
            (root / "doc.md").write_text(text)
            run_dir = scratch / (root.name + "-run")
            done = subprocess.run(
                [sys.executable, str(here), "--root", str(root), "--no-build", "--timeout", "2",
                 "--run-dir", str(run_dir), *extra],
                capture_output=True, text=True, timeout=60,
            )
            return done, run_dir

        # Independent runs, mostly waiting: all at once, so the self-test takes seconds.
        with ThreadPoolExecutor(max_workers=len(broken) + 1) as pool:
            good_run = pool.submit(run, "good", good)
            broken_runs = {name: pool.submit(run, name, text) for name, (text, _) in broken.items()}
            done, run_dir = good_run.result()
            broken_done = {name: future.result()[0] for name, future in broken_runs.items()}
        out = done.stdout + done.stderr
        if done.returncode != 0:
            failed.append(f"the good walk-through failed:\n{out}")
        for want in ["doc.md:", "3 run (1 in the background), 1 skipped", "needs a Duo tenant"]:
            if want not in out:
                failed.append(f"the good walk-through's report lacks {want!r}:\n{out}")
        ready = run_dir / "tmp" / "ready.json"
        if not ready.exists():
            failed.append("the background block's ready file was not under the run's /tmp")
        else:
            pid = re.sub(r"\D", "", ready.read_text())
            stat = process_stat(pid)
            if stat and stat[0] != "Z":
                failed.append(f"the background process {pid} outlived the run")
                os.kill(int(pid), signal.SIGKILL)
        for name, (_, want) in broken.items():
            done = broken_done[name]
            out = done.stdout + done.stderr
            if done.returncode != 1 or want not in out:
                failed.append(f"{name}: wanted exit 1 with {want!r}, got {done.returncode}:\n{out}")
    for f in failed:
        print(f"self-test FAILED: {f}", file=sys.stderr)
    print(
        f"walkthroughs self-test: a good walk-through and {len(broken)} broken ones, "
        f"{len(failed)} not as expected"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
