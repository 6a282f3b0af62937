#!/usr/bin/env python3
"""Load harness for postdesk: many mailboxes on a private Dovecot (and OpenSMTPD for LMTP).

usage: loadtest.py --postdesk PATH/TO/postdesk --scenario S --n N [--mails M] [--out DIR]
  S in: link, drain, idle, lmtp, resources, all (comma-separated lists work too).
  --nodes K (K > 0): a private PostgreSQL and K postdesk nodes sharing it, for link and drain (docs/SCALING.md).

Prints one JSON object per measurement on stdout (progress goes to stderr). With --out DIR it also appends
them to DIR/results.jsonl and writes the latency samples to DIR/latency-<scenario>-n<N>.json for plot.py.

Needs root (Dovecot's mail uid, OpenSMTPD's mount namespace), Dovecot 2.3 (imapd, lmtpd), fetchmail for the
drain reference, OpenSMTPD for the lmtp scenario and PostgreSQL 15 for --nodes (scripts/install-deps.sh installs
them). Python 3.11 standard library only. Everything lives in one temporary directory, removed at exit unless
--keep; Dovecot, postdesk, PostgreSQL and OpenSMTPD are stopped on exit, on Ctrl-C and on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime as dt
import json
import os
import pwd
import grp
import random
import resource
import shutil
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SCENARIOS = ("link", "drain", "idle", "lmtp", "resources")
PASSWORD = "load-pw"
PROJECT = "LD"
REQUEST_TYPE = "Mail"
DOMAIN = "desk.test"
SINK_DOMAIN = "sink.test"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class HarnessError(Exception):
    """A step of the harness failed; the message says which and where to look."""


# ---------------------------------------------------------------------------------------------------------------
# Cleanup: every started server registers a stop function; they run in reverse order at exit and on signals.

_cleanups: list = []
_cleanup_lock = threading.Lock()


def at_cleanup(function) -> None:
    with _cleanup_lock:
        _cleanups.append(function)


def run_cleanups() -> None:
    while True:
        with _cleanup_lock:
            if not _cleanups:
                return
            function = _cleanups.pop()
        try:
            function()
        except Exception as error:  # a failing stop must not keep the others from running
            log(f"cleanup: {error}")


def _on_signal(signum, _frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# ---------------------------------------------------------------------------------------------------------------
# Small helpers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_banner(port: int, marker: str, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                banner = s.recv(512).decode("latin-1")
                if marker in banner:
                    return
                raise HarnessError(f"port {port} answers with someone else's greeting: {banner!r}")
        except OSError:
            time.sleep(0.02)
    raise HarnessError(f"{what} did not greet on 127.0.0.1:{port} within {timeout} s")


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), int(-(-p * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


def latency_summary(latencies: list[float]) -> dict:
    values = sorted(latencies)
    return {
        "p50_s": round(percentile(values, 50), 4),
        "p95_s": round(percentile(values, 95), 4),
        "p99_s": round(percentile(values, 99), 4),
        "max_s": round(values[-1], 4) if values else None,
        "min_s": round(values[0], 4) if values else None,
    }


def parse_db_time(text: str) -> float:
    """GRDB stores dates as 'YYYY-MM-DD HH:MM:SS.SSS' in UTC; psql (PGTZ=UTC) prints 'YYYY-MM-DD HH:MM:SS.ffffff+00'."""
    moment = dt.datetime.fromisoformat(text.replace("T", " ").rstrip("Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


def raise_fd_limit() -> int:
    """Raises this process's (and so its children's) open-file limit as far as allowed; returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for wanted in (1 << 20, 262144, 65536):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            return wanted
        except (ValueError, OSError):
            continue
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard
    except (ValueError, OSError):
        return soft


def git_commit(binary: Path) -> str | None:
    for directory in binary.resolve().parents:
        if (directory / ".git").exists():
            try:
                out = subprocess.run(
                    ["git", "-C", str(directory), "rev-parse", "--short", "HEAD"],
                    capture_output=True, text=True, timeout=10,
                )
                return out.stdout.strip() or None
            except OSError:
                return None
    return None


def make_mail(sender: str, recipient: str, subject: str, message_id: str, size: int = 1200) -> bytes:
    """A plain-text mail of about `size` bytes."""
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    head = (
        f"From: Customer <{sender}>\r\nTo: {recipient}\r\nSubject: {subject}\r\nDate: {date}\r\n"
        f"Message-ID: <{message_id}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 7bit\r\n\r\n"
    )
    line = "Hello, the printer on the third floor prints every page twice since this morning.\r\n"
    body = "Dear support team,\r\n\r\n"
    while len(head) + len(body) + len(line) < size - 40:
        body += line
    body += "\r\nBest regards,\r\nA customer\r\n"
    return (head + body).encode()


# ---------------------------------------------------------------------------------------------------------------
# Dovecot


class Dovecot:
    """A private Dovecot 2.3 on 127.0.0.1: IMAP (no TLS) and LMTP, N users u1..uN@desk.test, Maildirs."""

    def __init__(self, base: Path, n: int):
        self.base = base / "dovecot"
        self.n = n
        self.imap_port = free_port()
        self.lmtp_port = free_port()
        self.config = self.base / "dovecot.conf"
        self.users = self.base / "users"
        self.log_file = self.base / "dovecot.log"
        self.uid = pwd.getpwnam("nobody").pw_uid
        self.gid = grp.getgrnam("nogroup").gr_gid
        self.master_pid: int | None = None
        self.instance_name = f"postdesk-load-{os.getpid()}"

    def address(self, i: int) -> str:
        return f"u{i}@{DOMAIN}"

    def maildir(self, i: int) -> Path:
        return self.users / self.address(i) / "Maildir"

    def config_text(self) -> str:
        n = self.n
        # One imap process serves up to 100 IDLE sessions (service_count = 0 makes client_limit count); every
        # process holds one inotify instance, and the kernel's default allows 128 per uid: 100 × 100 = 10,000.
        imap_clients = 100
        imap_processes = max(100, n // imap_clients + 20)
        client_limit = max(5000, 3 * n + 1000)
        return f"""# Generated by Benchmarks/load/loadtest.py for {n} users.
protocols = imap lmtp
listen = 127.0.0.1
base_dir = {self.base}/run
state_dir = {self.base}/state
instance_name = {self.instance_name}
log_path = {self.log_file}
info_log_path = {self.log_file}
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_cache_size = 10M
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.base}/users.passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.base}/users.passwd
  default_fields = uid=nobody gid=nogroup home={self.users}/%u
}}
mail_location = maildir:~/Maildir
mail_privileged_group =
first_valid_uid = 100
# Many sessions: every service's client_limit defaults to this (auth, anvil, stats, ...).
default_client_limit = {client_limit}
default_process_limit = {max(100, imap_processes)}
service imap {{
  service_count = 0
  client_limit = {imap_clients}
  process_limit = {imap_processes}
}}
service imap-login {{
  # High-performance mode: a few login processes take every connection.
  service_count = 0
  client_limit = {max(1000, client_limit // 4)}
  process_min_avail = 2
  process_limit = 20
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
protocol lmtp {{
  auth_username_format = %Lu
}}
protocol imap {{
  mail_max_userip_connections = 20
}}
"""

    def start(self) -> None:
        for sub in ("run", "state", "users"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        for path in (self.base.parent, self.base, self.users):
            os.chmod(path, 0o755)
        with open(self.base / "users.passwd", "w") as f:
            for i in range(1, self.n + 1):
                f.write(f"{self.address(i)}:{{PLAIN}}{PASSWORD}::::::\n")
        os.chmod(self.base / "users.passwd", 0o644)
        for i in range(1, self.n + 1):
            home = self.users / self.address(i)
            for sub in ("cur", "new", "tmp"):
                (home / "Maildir" / sub).mkdir(parents=True, exist_ok=True)
            for path in (home, home / "Maildir", *(home / "Maildir" / s for s in ("cur", "new", "tmp"))):
                os.chown(path, self.uid, self.gid)
        self.config.write_text(self.config_text())
        # The daemonized master keeps its stdout and stderr: a file, not a pipe that run() would wait on.
        errors = self.base / "dovecot.out"
        with open(errors, "wb") as handle:
            code = subprocess.run(["/usr/sbin/dovecot", "-c", str(self.config)], stdin=subprocess.DEVNULL,
                                  stdout=handle, stderr=handle).returncode
        if code != 0:
            raise HarnessError(f"dovecot failed to start: {errors.read_text().strip()}; see {self.log_file}")
        at_cleanup(self.stop)
        pid_file = self.base / "run" / "master.pid"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.master_pid is None:
            try:
                self.master_pid = int(pid_file.read_text().strip())
            except (OSError, ValueError):
                time.sleep(0.01)
        wait_for_banner(self.imap_port, "Dovecot", 20, "Dovecot IMAP")

    def instance_pids(self) -> list[int]:
        """This instance's processes, by their command lines: the master (`dovecot -c CONFIG`) and its children,
        which Dovecot titles `dovecot-<instance_name>/<service>`."""
        master_line = f"-c\0{self.config}".encode()
        child_prefix = f"dovecot-{self.instance_name}/".encode()
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    line = f.read()
            except OSError:
                continue
            if line.startswith(child_prefix) or (line.startswith(b"/usr/sbin/dovecot\0") and master_line in line):
                pids.append(int(entry))
        return pids

    def stop(self) -> None:
        if self.master_pid is None:
            return
        self.master_pid = None
        # Every process of this instance by its id, the master first: a master that was already gone (or a pid
        # file read too early) must not leave its children running.
        deadline = time.monotonic() + 15
        sent = signal.SIGTERM
        while True:
            pids = self.instance_pids()
            if not pids:
                return
            if time.monotonic() > deadline:
                sent = signal.SIGKILL
            for pid in pids:
                try:
                    os.kill(pid, sent)
                except ProcessLookupError:
                    pass
            time.sleep(0.2 if sent == signal.SIGTERM else 0.05)
            if sent == signal.SIGKILL and time.monotonic() > deadline + 5:
                log(f"Dovecot processes {pids} did not exit")
                return

    def write_maildir(self, i: int, raw: bytes, name: str) -> None:
        """Delivers like an MDA: write into tmp/, rename into new/ (owned by the mail uid)."""
        maildir = self.maildir(i)
        tmp = maildir / "tmp" / name
        with open(tmp, "wb") as f:
            f.write(raw)
        os.chown(tmp, self.uid, self.gid)
        os.rename(tmp, maildir / "new" / name)

    def sessions(self) -> int:
        """IMAP sessions logged in (doveadm who)."""
        out = subprocess.run(
            ["doveadm", "-c", str(self.config), "who", "-1"], capture_output=True, text=True, timeout=60)
        return sum(1 for line in out.stdout.splitlines() if " imap " in f" {line} " or "\timap\t" in line)

    def rss_kib(self) -> int:
        """Summed VmRSS of this instance's processes (its master and every descendant)."""
        if self.master_pid is None:
            return 0
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
        total, stack = 0, [self.master_pid]
        while stack:
            pid = stack.pop()
            total += vm_rss_kib(pid)
            stack.extend(children.get(pid, []))
        return total


# ---------------------------------------------------------------------------------------------------------------
# postdesk


def vm_rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[11], fields[12] are utime and stime (the 14th and 15th fields of stat).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int | None) -> float:
    """CPU of a process and all its descendants, the ones that already ended included: utime + stime + cutime +
    cstime of each live one (a child's CPU moves into its parent's cutime/cstime when it is reaped, so nothing is
    counted twice). For server trees that fork per connection or session: PostgreSQL, Dovecot."""
    if root is None:
        return 0.0
    parents: dict[int, int] = {}
    times: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += times.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total / os.sysconf("SC_CLK_TCK")


def unix_http_get(socket_path: Path, path: str, timeout: float = 30) -> str:
    """GET over a Unix socket (the admin socket serves /metrics too)."""
    import http.client

    class Connection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(str(socket_path))

    connection = Connection("localhost", timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        if response.status != 200:
            raise HarnessError(f"GET {path} on {socket_path}: {response.status} {body[:200]}")
        return body
    finally:
        connection.close()


def metric_sum(text: str, name: str, **labels: str) -> float:
    """The sum of a Prometheus metric's samples (text format) whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        metric, _, label_text = head.partition("{")
        if metric != name:
            continue
        if any(f'{key}="{wanted}"' not in label_text for key, wanted in labels.items()):
            continue
        try:
            total += float(value)
        except ValueError:
            continue
    return total


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL (--nodes K): one private server that all nodes share


def sql_literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


class PsqlCursor(list):
    def fetchone(self):
        return self[0] if self else None

    def fetchall(self):
        return list(self)


class PsqlSession:
    """One long-running `psql` as the superuser over the Unix socket, answering queries the way a sqlite3
    connection does (`execute(sql, params).fetchone()`, iteration; `?` placeholders), so the counting code stays one
    for both backends. One process for all the polling: a psql per query would cost a fork and a backend per poll.
    Values come back as int when they look like one, None for NULL, else str; times as psql prints them in UTC."""

    SEPARATOR = "\x1f"
    NULL = "\x1e"

    def __init__(self, server: "Postgres"):
        self.server = server
        self.marker = f"--end-{os.getpid()}-{random.randrange(1 << 30)}--"
        environment = dict(os.environ, PGTZ="UTC", PGCLIENTENCODING="UTF8")
        self.process = subprocess.Popen(
            ["/usr/bin/psql", "-X", "-q", "-A", "-t", "-F", self.SEPARATOR, "-P", f"null={self.NULL}",
             "-v", "ON_ERROR_STOP=0", "-h", str(server.socket_dir), "-p", str(server.port), "-U", "postgres",
             "-d", server.database],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
            bufsize=1,
        )
        self._stderr: list[str] = []
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stderr(self) -> None:
        assert self.process.stderr
        for line in self.process.stderr:
            self._stderr.append(line.rstrip())

    @staticmethod
    def _value(text: str):
        if text == PsqlSession.NULL:
            return None
        if text.lstrip("-").isdigit():
            return int(text)
        return text

    def execute(self, sql: str, params: tuple = ()) -> PsqlCursor:
        if params:
            pieces = sql.split("?")
            if len(pieces) != len(params) + 1:
                raise HarnessError(f"{len(params)} parameters for {len(pieces) - 1} placeholders: {sql}")
            sql = pieces[0] + "".join(sql_literal(p) + rest for p, rest in zip(params, pieces[1:]))
        if self.process.poll() is not None:
            raise HarnessError(f"psql ended ({self.process.returncode}): {' '.join(self._stderr[-5:])}")
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(sql.rstrip().rstrip(";") + ";\n")
        self.process.stdin.write(f"\\echo {self.marker} :ERROR\n")
        self.process.stdin.flush()
        rows = PsqlCursor()
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise HarnessError(f"psql ended during a query: {' '.join(self._stderr[-5:])}")
            line = line.rstrip("\n")
            if line.startswith(self.marker):
                if line.split()[-1] == "true":
                    time.sleep(0.05)  # let the reader thread take psql's message
                    raise HarnessError(f"PostgreSQL: {' '.join(self._stderr[-3:])} (in {sql[:300]})")
                return rows
            rows.append(tuple(self._value(v) for v in line.split(self.SEPARATOR)))

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                assert self.process.stdin
                self.process.stdin.write("\\q\n")
                self.process.stdin.close()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "PsqlSession":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


class Postgres:
    """A private PostgreSQL (Debian's newest /usr/lib/postgresql/N/bin): initdb in the run's directory, TCP on a
    private port of 127.0.0.1 (scram-sha-256, a role with a password, as the nodes connect), a private Unix socket
    directory for the harness's psql (trust, as postgres). As root the server runs as the `postgres` user (PostgreSQL
    refuses root), through setpriv, which execs it, so the pid is the postmaster's."""

    user = "postdesk"
    database = "postdesk"

    def __init__(self, base: Path, unsafe: bool, statements: bool = False):
        self.base = base / "postgres"
        self.statements = statements
        self.data = self.base / "data"
        self.socket_dir = self.base / "run"
        self.log_file = self.base / "postgres.log"
        self.password = f"pw{random.randrange(1 << 48):x}"
        self.unsafe = unsafe
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.binaries = self.find_binaries()

    @staticmethod
    def find_binaries() -> Path:
        root = Path("/usr/lib/postgresql")
        versions = sorted((int(p.name) for p in root.iterdir() if p.name.isdigit()), reverse=True) \
            if root.is_dir() else []
        for version in versions:
            bin_dir = root / str(version) / "bin"
            if all(os.access(bin_dir / b, os.X_OK) for b in ("initdb", "postgres")) and os.access("/usr/bin/psql", os.X_OK):
                return bin_dir
        raise HarnessError("--nodes needs PostgreSQL (Debian packages postgresql, postgresql-client)")

    def as_server_user(self, command: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return command
        return ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", *command]

    def url(self) -> str:
        return f"postgres://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}?sslmode=disable"

    def start(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        password_file = self.base / "superuser-password"
        password_file.write_text(f"unused-{random.randrange(1 << 48):x}\n")
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            for path in (self.base, self.socket_dir, password_file):
                os.chown(path, account.pw_uid, account.pw_gid)
        made = subprocess.run(
            self.as_server_user([
                str(self.binaries / "initdb"), "-D", str(self.data), "-U", "postgres", "--pwfile", str(password_file),
                "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
            ]), capture_output=True, text=True, cwd=self.base)
        if made.returncode != 0:
            raise HarnessError(f"initdb failed ({made.returncode}): {made.stderr.strip()[-1500:]}")
        at_cleanup(self.stop)
        # Three nodes' pools (20 connections each) and the harness's psql fit in 100; durability is PostgreSQL's
        # default (fsync and synchronous_commit on), as postdesk's SQLite syncs every commit (synchronous=FULL).
        settings = ["max_connections=100", "log_min_messages=warning", "listen_addresses=127.0.0.1"]
        if self.statements:
            settings += ["shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=all"]
        if self.unsafe:
            settings += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
        for attempt in range(3):
            self.port = free_port()
            arguments = [str(self.binaries / "postgres"), "-D", str(self.data), "-p", str(self.port),
                         "-k", str(self.socket_dir)]
            for setting in settings:
                arguments += ["-c", setting]
            log_handle = open(self.log_file, "ab")
            self.process = subprocess.Popen(self.as_server_user(arguments), stdout=log_handle, stderr=log_handle,
                                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.base)
            log_handle.close()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                if self.psql("SELECT 1", check=False).returncode == 0:
                    self.psql(f"CREATE ROLE {self.user} LOGIN CREATEDB PASSWORD {sql_literal(self.password)}")
                    self.psql(f"CREATE DATABASE {self.database} OWNER {self.user}")
                    if self.statements:
                        self.psql("CREATE EXTENSION pg_stat_statements", database=self.database)
                    return
                time.sleep(0.1)
            text = self.log_file.read_text(errors="replace")
            self.stop()
            if "Address already in use" in text and attempt < 2:
                continue
            raise HarnessError(f"PostgreSQL did not start; {self.log_file}: {text[-800:]}")

    def psql(self, sql: str, database: str = "postgres", check: bool = True) -> subprocess.CompletedProcess:
        """One command as the superuser over the Unix socket: `psql -X -A -t -h SOCKETDIR -p PORT -U postgres`."""
        out = subprocess.run(
            ["/usr/bin/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir),
             "-p", str(self.port), "-U", "postgres", "-d", database, "-c", sql],
            capture_output=True, text=True, timeout=120, env=dict(os.environ, PGTZ="UTC"))
        if check and out.returncode != 0:
            raise HarnessError(f"psql {sql[:80]!r} failed ({out.returncode}): {out.stderr.strip()[-1000:]}")
        return out

    def session(self) -> PsqlSession:
        return PsqlSession(self)

    def database_stats(self) -> dict:
        """The desk database's counters of pg_stat_database."""
        columns = ("xact_commit", "xact_rollback", "tup_inserted", "tup_updated", "tup_deleted", "tup_fetched",
                   "deadlocks")
        out = self.psql(f"SELECT {', '.join(columns)} FROM pg_stat_database WHERE datname = {sql_literal(self.database)}")
        return dict(zip(columns, (int(v) for v in out.stdout.strip().split("|"))))

    def log_size(self) -> int:
        try:
            return self.log_file.stat().st_size
        except OSError:
            return 0

    def log_errors(self, offset: int) -> dict:
        """ERROR messages of the server log past `offset`, counted by their text."""
        counts: dict[str, int] = {}
        try:
            with open(self.log_file, "rb") as f:
                f.seek(offset)
                text = f.read().decode(errors="replace")
        except OSError:
            return counts
        for line in text.splitlines():
            _, marker, message = line.partition(" ERROR:  ")
            if marker:
                counts[message.strip()[:160]] = counts.get(message.strip()[:160], 0) + 1
        return counts

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def cpu_seconds(self) -> float:
        """The postmaster and every backend, ended ones included."""
        return tree_cpu_seconds(self.pid)

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # fast shutdown: sessions end, nothing to recover
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


class ClusterSettings:
    """What the nodes of a desk on PostgreSQL share (--nodes K): the database, the secret key, the attachments."""

    def __init__(self, postgres: Postgres, secret_key_file: Path, attachments: Path, lease_seconds: int):
        self.postgres = postgres
        self.secret_key_file = secret_key_file
        self.attachments = attachments
        self.lease_seconds = lease_seconds


class Postdesk:
    """`postdesk serve` with its own data directory and admin socket, and the admin CLI against it. With `cluster`
    a node of a desk on PostgreSQL: `--database`, the shared key and attachments, its own `--node-name`."""

    def __init__(self, binary: Path, base: Path, lmtp_port: int | None, name: str = "postdesk",
                 cluster: ClusterSettings | None = None):
        self.binary = binary
        self.name = name
        self.data = base / name
        self.data.mkdir(parents=True, exist_ok=True)
        self.socket = self.data / "admin.sock"
        self.db = self.data / "postdesk.sqlite"
        self.log_file = self.data / "server.log"
        self.lmtp_port = lmtp_port
        self.cluster = cluster
        self.process: subprocess.Popen | None = None
        self.terminating = False
        self.started_at = 0.0
        self.log_offset = 0
        at_cleanup(self.stop)

    @staticmethod
    def serve_help(binary: Path) -> str:
        out = subprocess.run([str(binary), "serve", "--help"], capture_output=True, text=True)
        return out.stdout + out.stderr

    def has_command(self, *words: str) -> bool:
        # ArgumentParser answers `--help` for an unknown subcommand with its parent's help, exit 0.
        out = subprocess.run([str(self.binary), *words, "--help"], capture_output=True, text=True)
        return out.returncode == 0 and f"USAGE: postdesk {' '.join(words)}" in out.stdout

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Starts `postdesk serve` without waiting for it (several nodes start together; `wait_ready` then)."""
        arguments = [
            str(self.binary), "serve", "--data-dir", str(self.data), "--socket", str(self.socket),
            "--sender-rate-limit", "0", "--log-level", "warning",
        ]
        if self.lmtp_port is not None:
            arguments += ["--lmtp-listen", f"127.0.0.1:{self.lmtp_port}"]
        if self.cluster is not None:
            arguments += [
                "--database", self.cluster.postgres.url(), "--attachments-dir", str(self.cluster.attachments),
                "--secret-key-file", str(self.cluster.secret_key_file), "--node-name", self.name,
                "--lease-seconds", str(self.cluster.lease_seconds),
            ]
        log_handle = open(self.log_file, "ab")
        self.log_offset = log_handle.tell()
        self.started_at = time.time()
        self.process = subprocess.Popen(arguments, stdout=log_handle, stderr=log_handle, stdin=subprocess.DEVNULL)
        log_handle.close()

    def wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"postdesk serve exited ({self.process.returncode}); see {self.log_file}")
            if self.socket.exists() and self.cli(["project", "list"], check=False).returncode == 0:
                return
            time.sleep(0.05)
        raise HarnessError(f"postdesk serve did not open {self.socket} within 60 s; see {self.log_file}")

    @property
    def pid(self) -> int:
        if self.process is None:
            raise HarnessError("postdesk is not running")
        return self.process.pid

    def terminate(self) -> None:
        """Sends SIGTERM once (a second one must not cut the graceful shutdown short)."""
        if self.process is not None and self.process.poll() is None and not self.terminating:
            self.terminating = True
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.process is None:
            return
        self.terminate()
        process, self.process = self.process, None
        self.terminating = False
        if process.poll() is None:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def cli(self, arguments: list[str], check: bool = True, stdin: bytes | None = None) -> subprocess.CompletedProcess:
        out = subprocess.run(
            [str(self.binary), *arguments, "--socket", str(self.socket)],
            capture_output=True, input=stdin, timeout=3600,
        )
        if check and out.returncode != 0:
            raise HarnessError(
                f"postdesk {' '.join(arguments[:3])} failed ({out.returncode}): "
                f"{out.stderr.decode(errors='replace').strip()[-2000:]}"
            )
        return out

    def connect_db(self) -> sqlite3.Connection | PsqlSession:
        """A read-only connection to postdesk's SQLite file (WAL: it sees every committed transaction), or with
        --nodes a psql session on the shared PostgreSQL that answers the same calls."""
        if self.cluster is not None:
            return self.cluster.postgres.session()
        connection = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        connection.execute("PRAGMA busy_timeout = 30000")
        return connection

    def metrics(self) -> str:
        return unix_http_get(self.socket, "/metrics")

    def log_lines(self, *words: str) -> list[str]:
        """Lines the server logged since its last start that contain any of `words` (case-insensitive)."""
        try:
            with open(self.log_file, "rb") as f:
                f.seek(self.log_offset)
                text = f.read().decode(errors="replace")
        except OSError:
            return []
        wanted = [w.lower() for w in words]
        return [line for line in text.splitlines() if any(w in line.lower() for w in wanted)]


# ---------------------------------------------------------------------------------------------------------------
# OpenSMTPD (lmtp scenario) and a trivial LMTP sink


class OpenSMTPD:
    """OpenSMTPD in a private mount namespace; desk.test → postdesk's LMTP listener, sink.test → the sink."""

    def __init__(self, base: Path, postdesk_lmtp: int, sink_lmtp: int):
        self.base = base / "smtpd"
        self.port = free_port()
        self.postdesk_lmtp = postdesk_lmtp
        self.sink_lmtp = sink_lmtp
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        for sub in ("spool", "run"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.base, 0o755)
        (self.base / "vusers").write_text(f"@{DOMAIN} nobody\n@{SINK_DOMAIN} nobody\n")
        (self.base / "smtpd.conf").write_text(
            f"""# Generated by Benchmarks/load/loadtest.py
table vusers file:{self.base}/vusers
listen on 127.0.0.1 port {self.port}
action "postdesk" lmtp "127.0.0.1:{self.postdesk_lmtp}" rcpt-to virtual <vusers>
action "sink" lmtp "127.0.0.1:{self.sink_lmtp}" rcpt-to virtual <vusers>
match from any for domain "{DOMAIN}" action "postdesk"
match from any for domain "{SINK_DOMAIN}" action "sink"
"""
        )
        command = (
            f"mount --bind '{self.base}/spool' /var/spool && mount --bind '{self.base}/run' /run "
            f"&& exec /usr/sbin/smtpd -d -f '{self.base}/smtpd.conf'"
        )
        log_handle = open(self.base / "smtpd.log", "ab")
        self.process = subprocess.Popen(
            ["/usr/bin/unshare", "-m", "--propagation", "private", "/bin/bash", "-c", command],
            stdout=log_handle, stderr=log_handle, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log_handle.close()
        at_cleanup(self.stop)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"smtpd exited at start; see {self.base}/smtpd.log")
            try:
                wait_for_banner(self.port, "OpenSMTPD", 0.5, "OpenSMTPD")
                return
            except HarnessError:
                continue
        raise HarnessError(f"OpenSMTPD did not greet within 20 s; see {self.base}/smtpd.log")

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class LMTPSink:
    """A trivial LMTP server (RFC 2033): 250 per recipient after DATA, and the arrival time of each Subject."""

    def __init__(self):
        self.port = free_port()
        self.arrivals: dict[str, float] = {}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.ready = threading.Event()

    def start(self) -> None:
        self.thread.start()
        if not self.ready.wait(10):
            raise HarnessError("LMTP sink did not start")
        at_cleanup(self.stop)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._session, "127.0.0.1", self.port))
        self.ready.set()
        try:
            self.loop.run_forever()
        finally:
            server.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink LMTP ready\r\n")
        recipients = 0
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                verb = line[:4].upper()
                if verb == b"LHLO":
                    writer.write(b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n")
                elif verb == b"MAIL":
                    recipients = 0
                    writer.write(b"250 2.1.0 ok\r\n")
                elif verb == b"RCPT":
                    recipients += 1
                    writer.write(b"250 2.1.5 ok\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 go ahead\r\n")
                    await writer.drain()
                    subject = None
                    while True:
                        body_line = await reader.readline()
                        if not body_line or body_line in (b".\r\n", b".\n"):
                            break
                        if subject is None and body_line.lower().startswith(b"subject:"):
                            subject = body_line[8:].strip().decode(errors="replace")
                    if subject is not None:
                        self.arrivals[subject] = time.time()
                    # RFC 2033 §4.2: one reply per accepted recipient after the final dot.
                    writer.write(b"250 2.0.0 stored\r\n" * max(recipients, 1))
                elif verb == b"QUIT":
                    writer.write(b"221 2.0.0 bye\r\n")
                    await writer.drain()
                    break
                else:  # RSET, NOOP, ...
                    writer.write(b"250 2.0.0 ok\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


# ---------------------------------------------------------------------------------------------------------------
# The measurements


class Run:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.binary = Path(args.postdesk).resolve()
        if not os.access(self.binary, os.X_OK):
            raise HarnessError(f"{self.binary} is not an executable postdesk")
        self.n = args.n
        self.commit = args.commit or git_commit(self.binary)
        self.base = Path(tempfile.mkdtemp(prefix="postdesk-load-", dir="/tmp"))
        os.chmod(self.base, 0o755)
        if not args.keep:
            at_cleanup(self.remove_base)
        self.out = Path(args.out) if args.out else None
        if self.out:
            self.out.mkdir(parents=True, exist_ok=True)
        self.dovecot: Dovecot | None = None
        self.postdesk: Postdesk | None = None  # the node the admin commands go to (node 1 with --nodes)
        self.nodes: list[Postdesk] = []  # every postdesk serve of the run (one with SQLite)
        self.postgres: Postgres | None = None
        self.backend = "postgres" if args.nodes > 0 else "sqlite"
        self.fd_limit = raise_fd_limit()

    def remove_base(self) -> None:
        # Dovecot's last children may still write their logs for a moment after the master has gone.
        for _ in range(5):
            shutil.rmtree(self.base, ignore_errors=True)
            if not self.base.exists():
                return
            time.sleep(1)
        log(f"could not remove {self.base}")

    def emit(self, scenario: str, **fields) -> dict:
        record = {
            "scenario": scenario, "n": self.n,
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": self.commit, "load_avg": load_average(),
            "nodes": self.args.nodes, "backend": self.backend, **fields,
        }
        line = json.dumps(record)
        print(line, flush=True)
        if self.out:
            with open(self.out / "results.jsonl", "a") as f:
                f.write(line + "\n")
        return record

    def save_samples(self, scenario: str, samples: dict) -> None:
        if self.out:
            (self.out / f"latency-{scenario}-n{self.n}.json").write_text(json.dumps(samples))

    # -- setup -----------------------------------------------------------------------------------------------

    def start_servers(self, lmtp: bool) -> None:
        log(f"starting Dovecot with {self.n} users in {self.base} (open files: {self.fd_limit})")
        self.dovecot = Dovecot(self.base, self.n)
        self.dovecot.start()
        lmtp_port = free_port() if lmtp else None
        if self.args.nodes > 0:
            self.postgres = Postgres(self.base, unsafe=self.args.pg_unsafe, statements=self.args.pg_statements)
            log(f"starting PostgreSQL ({self.postgres.binaries.parent.name})")
            self.postgres.start()
            # Every node seals stored passwords with the same key: made here, as an operator would (32 random bytes).
            key_file = self.base / "secret.key"
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as f:
                f.write(os.urandom(32))
            attachments = self.base / "attachments"
            attachments.mkdir()
            cluster = ClusterSettings(self.postgres, key_file, attachments, self.args.lease_seconds)
            self.nodes = [Postdesk(self.binary, self.base, None, f"n{k}", cluster)
                          for k in range(1, self.args.nodes + 1)]
            log(f"starting {len(self.nodes)} postdesk nodes on PostgreSQL")
            self.start_nodes()
        else:
            self.nodes = [Postdesk(self.binary, self.base, lmtp_port)]
            log("starting postdesk serve")
            self.nodes[0].start()
        self.postdesk = self.nodes[0]
        self.postdesk.cli(["project", "create", PROJECT, "--name", "Load", "--signup", "public"])
        self.postdesk.cli([
            "request-type", "add", PROJECT, REQUEST_TYPE,
            "--field", "summary:visible:required", "--field", "description:visible:required",
        ])

    def start_nodes(self) -> float:
        """Starts every node at once (launch all, then wait for each socket), so that no node runs alone first;
        gives the earliest start time."""
        for node in self.nodes:
            node.launch()
        for node in self.nodes:
            node.wait_ready()
        return min(node.started_at for node in self.nodes)

    def stop_nodes(self) -> None:
        # SIGTERM to all first: each gives back its leases as it leaves, and they shut down side by side.
        for node in self.nodes:
            node.terminate()
        for node in self.nodes:
            node.stop()

    def link(self) -> dict:
        """Links u1..uN: `channel import` when the binary has it, else one `channel add` each, 8 at a time."""
        assert self.dovecot and self.postdesk
        password_file = self.base / "password"
        password_file.write_text(PASSWORD)
        os.chmod(password_file, 0o600)
        addresses = [self.dovecot.address(i) for i in range(1, self.n + 1)]
        use_import = not self.args.no_import and self.postdesk.has_command("channel", "import")
        log(f"linking {self.n} mailboxes with {'channel import' if use_import else 'channel add'}")
        import_failures: list[str] = []
        start = time.monotonic()
        if use_import:
            csv_file = self.base / "channels.csv"
            with open(csv_file, "w") as f:
                f.write("project,address,protocol,host,port,tls,username,password-file,request-type\n")
                for address in addresses:
                    f.write(f"{PROJECT},{address},imap,127.0.0.1,{self.dovecot.imap_port},none,{address},"
                            f"{password_file},{REQUEST_TYPE}\n")
            # An import that linked only some rows (the others' reasons are in its output) is run again: it skips
            # what is linked ("already") and tries the rest. Up to 3 passes, reported as `import_passes`.
            for passes in range(1, 4):
                out = self.postdesk.cli(["channel", "import", str(csv_file)], check=False)
                if out.returncode == 0:
                    break
                text = (out.stdout + out.stderr).decode(errors="replace")
                reasons = [line for line in text.splitlines() if "fail" in line.lower() or "error" in line.lower()]
                log(f"channel import pass {passes} failed ({out.returncode}): " + " | ".join(reasons[-4:])[-1500:])
                import_failures.append(" | ".join(reasons[-4:])[-600:])
            else:
                raise HarnessError(f"channel import failed 3 times: {import_failures[-1]}")
        else:
            def add(address: str) -> None:
                self.postdesk.cli([
                    "channel", "add", PROJECT, "--address", address, "--protocol", "imap",
                    "--host", "127.0.0.1", "--port", str(self.dovecot.imap_port), "--tls", "none",
                    "--username", address, "--password-file", str(password_file), "--request-type", REQUEST_TYPE,
                ])
            pool = concurrent.futures.ThreadPoolExecutor(self.args.link_concurrency)
            try:
                for future in concurrent.futures.as_completed([pool.submit(add, a) for a in addresses]):
                    future.result()
            finally:
                # On an error or Ctrl-C the queued links are dropped, not run one by one against a stopped server.
                pool.shutdown(wait=False, cancel_futures=True)
        seconds = time.monotonic() - start
        with self.postdesk.connect_db() as db:
            linked = db.execute("SELECT count(*) FROM channel WHERE protocol = 'imap'").fetchone()[0]
        if linked != self.n:
            raise HarnessError(f"{linked} channels linked, {self.n} wanted")
        return self.emit(
            "link", method="import" if use_import else f"add x{self.args.link_concurrency}",
            seconds=round(seconds, 2), per_second=round(self.n / seconds, 1), linked=linked,
            **({"import_passes": len(import_failures) + 1, "import_failures": import_failures}
               if import_failures else {}),
        )

    def wait_idle(self, timeout: float) -> float:
        """Waits until every channel's mailbox session is idle; returns the seconds it took."""
        assert self.postdesk
        start = time.monotonic()
        last = None
        while time.monotonic() - start < timeout:
            out = self.postdesk.cli(["status", "--json"], check=False)
            try:
                rows = json.loads(out.stdout)
                if isinstance(rows, dict):
                    rows = rows.get("channels", [])
                idle = sum(1 for row in rows if row.get("state") == "idle")
            except (ValueError, AttributeError):
                idle = -1
            if idle != last:
                log(f"{idle} of {self.n} channels idle")
                last = idle
            if idle >= self.n:
                return time.monotonic() - start
            time.sleep(1)
        raise HarnessError(f"only {last} of {self.n} channels idle after {timeout} s; see {self.postdesk.log_file}")

    # -- drain -----------------------------------------------------------------------------------------------

    def drain(self) -> None:
        assert self.dovecot and self.postdesk
        m = self.args.mails
        total = self.n * m
        clustered = self.postgres is not None
        with self.postdesk.connect_db() as db:
            before = db.execute("SELECT count(*) FROM inbound").fetchone()[0]
        log(f"stopping postdesk for the backlog ({len(self.nodes)} node{'s' if len(self.nodes) > 1 else ''})")
        self.stop_nodes()
        if before:
            # Mail of earlier scenarios (idle) goes, so that fetchmail fetches exactly the backlog postdesk drains.
            self.doveadm("expunge", "-A", "mailbox", "INBOX", "all")
        log(f"writing {self.n} x {m} mails into the Maildirs")
        start = time.monotonic()
        host = socket.gethostname()
        seq = 0
        for i in range(1, self.n + 1):
            recipient = self.dovecot.address(i)
            for j in range(m):
                seq += 1
                raw = make_mail(
                    f"c{seq % 997}@customer.test", recipient, f"drain {i}-{j}", f"drain-{i}-{j}-{seq}@load.test")
                self.dovecot.write_maildir(i, raw, f"{int(time.time())}.P{os.getpid()}Q{seq}.{host}")
        written = time.monotonic() - start
        # Mail that Dovecot delivers itself (LMTP, LDA) is in its index the moment it arrives; files written
        # straight into the Maildirs are not. Indexing them here, outside both measurements, gives postdesk and
        # fetchmail the same starting point a real backlog has: without it the first client pays for building
        # every index and cache, and the second finds them made.
        self.doveadm("index", "-A", "INBOX")
        tokens_before = 0
        pg_before: tuple = ()
        pg_log_offset = 0
        if clustered:
            assert self.postgres
            with self.postdesk.connect_db() as db:
                tokens_before = db.execute("SELECT coalesce(sum(fencingToken), 0) FROM channelLease").fetchone()[0]
                if self.args.pg_statements:
                    db.execute("SELECT pg_stat_statements_reset()")
            pg_before = self.postgres.database_stats()
            pg_log_offset = self.postgres.log_size()
        log(f"backlog written in {written:.1f} s and indexed; starting postdesk"
            + (f" ({len(self.nodes)} nodes at once)" if clustered else ""))
        dovecot_cpu_start = tree_cpu_seconds(self.dovecot.master_pid)
        postgres_cpu_start = self.postgres.cpu_seconds() if self.postgres else 0.0
        # The clock runs from the first node's start: joining, claiming leases and rebalancing them are inside.
        started = self.start_nodes()
        pids = [node.pid for node in self.nodes]
        cpu_start = {pid: cpu_seconds(pid) for pid in pids}
        perf = None
        if self.args.perf:
            # cpu-clock: a software event, available in VMs without hardware counters.
            perf = subprocess.Popen(
                ["perf", "record", "-e", "cpu-clock", "-g", "-p", ",".join(map(str, pids)), "-o", self.args.perf],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        wanted = before + total
        deadline = time.monotonic() + self.args.timeout
        done = 0
        peak_rss = 0
        peak_rss_node = {pid: 0 for pid in pids}
        last_log = 0.0
        shares: list[dict] = []  # with --nodes: the lease board each time it changed (seconds from the start)
        with self.postdesk.connect_db() as db:
            while time.monotonic() < deadline:
                done = db.execute("SELECT count(*) FROM inbound WHERE processedAt IS NOT NULL").fetchone()[0]
                rss = {pid: vm_rss_kib(pid) for pid in pids}
                for pid, value in rss.items():
                    peak_rss_node[pid] = max(peak_rss_node[pid], value)
                peak_rss = max(peak_rss, sum(rss.values()))
                if clustered:
                    board = {owner or "-": count for owner, count in db.execute(
                        "SELECT CASE WHEN expiresAt > clock_timestamp() THEN owner END AS holder, count(*) "
                        "FROM channelLease GROUP BY holder ORDER BY holder")}
                    if not shares or shares[-1]["owners"] != board:
                        shares.append({"t_s": round(time.time() - started, 2), "owners": board})
                if done >= wanted:
                    break
                if time.monotonic() - last_log > 10:
                    log(f"drain: {done - before} of {total} processed")
                    last_log = time.monotonic()
                # The end time is the last processedAt, not this poll's; on PostgreSQL a poll costs a backend ~1 ms.
                time.sleep(0.25 if clustered else 0.1)
            finished = time.time()
            cpu_node = {pid: cpu_seconds(pid) - cpu_start[pid] for pid in pids}
            cpu_node_total = {pid: cpu_seconds(pid) for pid in pids}  # startup included
            cpu = sum(cpu_node.values())
            dovecot_cpu = tree_cpu_seconds(self.dovecot.master_pid) - dovecot_cpu_start
            postgres_cpu = self.postgres.cpu_seconds() - postgres_cpu_start if self.postgres else None
            if perf is not None:
                perf.send_signal(signal.SIGINT)
                try:
                    perf.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    perf.kill()
            # Portable SQL (SQLite and PostgreSQL): no boolean sums, every subquery named.
            rows = db.execute(
                "SELECT count(*), count(DISTINCT requestKey), count(DISTINCT messageId), "
                "sum(CASE WHEN outcome = 'created' THEN 1 ELSE 0 END), min(fetchedAt), max(fetchedAt), "
                "max(processedAt) FROM inbound WHERE subject LIKE 'drain %'"
            ).fetchone()
            requests = db.execute("SELECT count(*) FROM request WHERE summary LIKE 'drain %'").fetchone()[0]
            duplicates = db.execute(
                "SELECT count(*) FROM (SELECT messageId FROM inbound WHERE subject LIKE 'drain %' "
                "GROUP BY messageId HAVING count(*) > 1) AS twice"
            ).fetchone()[0]
            outcomes = {outcome or "pending": count for outcome, count in db.execute(
                "SELECT outcome, count(*) FROM inbound WHERE subject LIKE 'drain %' GROUP BY outcome ORDER BY outcome")}
            # What became of a mail that is not a request: its outcome and postdesk's words, for the first few.
            others = [{"outcome": outcome, "attempts": attempts, "detail": (detail or "")[:300]}
                      for outcome, attempts, detail in db.execute(
                          "SELECT outcome, attempts, detail FROM inbound WHERE subject LIKE 'drain %' "
                          "AND (outcome IS NULL OR outcome <> 'created') ORDER BY id LIMIT 5")]
            cluster_fields: dict = {}
            if clustered:
                tokens_after = db.execute("SELECT coalesce(sum(fencingToken), 0) FROM channelLease").fetchone()[0]
                cluster_fields["lease_claims"] = tokens_after - tokens_before
        if done < wanted:
            raise HarnessError(f"drain: {done - before} of {total} processed after {self.args.timeout} s")
        inbound, distinct_keys, distinct_ids, created, first_fetch, last_fetch, last_processed = rows
        seconds = parse_db_time(last_processed) - started
        fetch_to_commit = parse_db_time(last_processed) - parse_db_time(first_fetch)
        if clustered:
            assert self.postgres
            # The database's side: transactions committed and rolled back in the drain (pg_stat_database, flushed
            # by the backends within a second of their last transaction), and the errors PostgreSQL logged.
            time.sleep(1.5)
            pg_after = self.postgres.database_stats()
            cluster_fields.update({f"pg_{k}": pg_after[k] - pg_before[k] for k in pg_after})
            cluster_fields["pg_commits_per_mail"] = round(cluster_fields["pg_xact_commit"] / total, 2)
            cluster_fields["postgres_errors"] = self.postgres.log_errors(pg_log_offset)
            if self.args.pg_statements:
                self.save_statements()
            # Which node did what: each node's own counters (admin socket /metrics), the fence's refusals, and
            # the warnings and errors of its log.
            per_node = []
            for node, pid in zip(self.nodes, pids):
                try:
                    text = node.metrics()
                    fetched = int(metric_sum(text, "postdesk_mail_fetched_total"))
                    made = int(metric_sum(text, "postdesk_inbound_outcomes_total", outcome="created"))
                    fenced = int(metric_sum(text, "postdesk_lease_fenced_commits_total"))
                except (HarnessError, OSError) as error:
                    fetched = made = fenced = None
                    log(f"{node.name}: no metrics: {error}")
                troubles = node.log_lines("warning", "error", "critical")
                for line in troubles[:5]:
                    log(f"{node.name} log: {line[:300]}")
                per_node.append({
                    "node": node.name, "cpu_s": round(cpu_node[pid], 2),
                    "cpu_s_with_start": round(cpu_node_total[pid], 2),
                    "peak_rss_mib": round(peak_rss_node[pid] / 1024, 1),
                    "fetched": fetched, "created": made, "fenced_commits": fenced, "log_warnings": len(troubles),
                })
            cluster_fields.update(
                lease_seconds=self.args.lease_seconds, per_node=per_node,
                lease_board=shares if len(shares) <= 40 else shares[:20] + shares[-20:],
                settled_s=shares[-1]["t_s"] if shares else None,
                postgres_cpu_seconds=round(postgres_cpu, 2),
                postgres_cpu_ms_per_mail=round(1000 * postgres_cpu / total, 3),
                postgres_unsafe=self.args.pg_unsafe,
            )
        self.emit(
            "drain", mails=m, total=total, seconds=round(seconds, 2), per_second=round(total / seconds, 1),
            first_fetch_to_last_commit_s=round(fetch_to_commit, 2),
            per_second_from_first_fetch=round(total / fetch_to_commit, 1) if fetch_to_commit > 0 else None,
            cpu_seconds=round(cpu, 2), cpu_ms_per_mail=round(1000 * cpu / total, 3),
            peak_rss_mib=round(peak_rss / 1024, 1),
            dovecot_cpu_seconds=round(dovecot_cpu, 2), dovecot_cpu_ms_per_mail=round(1000 * dovecot_cpu / total, 3),
            inbound_rows=inbound, created=created, outcomes=outcomes,
            **({"not_created": others} if others else {}), distinct_request_keys=distinct_keys,
            distinct_message_ids=distinct_ids, requests=requests, duplicates=duplicates,
            exactly_once=(inbound == total and created == total and distinct_keys == total and duplicates == 0),
            backlog_write_s=round(written, 2), wall_s=round(finished - started, 2), **cluster_fields,
        )
        if not self.args.no_fetchmail and len(self.nodes) <= 1:
            # postdesk marked the backlog \Seen; fetchmail gets it unread, as postdesk did.
            self.doveadm("flags", "remove", "-A", "\\Seen", "mailbox", "INBOX", "all")
            self.fetchmail(total)

    def save_statements(self) -> None:
        """--pg-statements: the drain's 25 costliest statements (pg_stat_statements), logged and kept in --out."""
        with self.postdesk.connect_db() as db:
            rows = db.execute(
                "SELECT calls, round(total_exec_time::numeric, 1), rows, "
                "regexp_replace(left(query, 160), '\\s+', ' ', 'g') FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "ORDER BY total_exec_time DESC LIMIT 25")
        lines = [f"{calls:>8} calls {ms:>10} ms {nrows:>8} rows  {query}" for calls, ms, nrows, query in rows]
        for line in lines[:12]:
            log(f"pg: {line}")
        if self.out:
            (self.out / f"pg-statements-nodes{self.args.nodes}-n{self.n}.txt").write_text("\n".join(lines) + "\n")

    def doveadm(self, *arguments: str) -> None:
        """Runs a doveadm command against the harness's Dovecot, for every user when given -A."""
        assert self.dovecot
        subprocess.run(["doveadm", "-c", str(self.dovecot.config), *arguments],
                       check=True, capture_output=True, timeout=self.args.timeout)

    def fetchmail(self, total: int) -> None:
        """Debian fetchmail over IMAP, every message (`fetchall`, `keep`), into one BSMTP file."""
        assert self.dovecot
        if shutil.which("fetchmail") is None:
            self.emit("fetchmail", status="not available", reason="fetchmail is not installed")
            return
        home = self.base / "fetchmail"
        home.mkdir(exist_ok=True)
        output = home / "mail.bsmtp"
        rc = home / "fetchmailrc"
        with open(rc, "w") as f:
            f.write("set no bouncemail\nset no syslog\n")
            f.write(f"poll 127.0.0.1 service {self.dovecot.imap_port} protocol IMAP auth password\n")
            for i in range(1, self.n + 1):
                f.write(f'  user "{self.dovecot.address(i)}" there with password "{PASSWORD}" is root here '
                        f"options keep fetchall no rewrite sslproto '' bsmtp {output}\n")
        os.chmod(rc, 0o600)
        log(f"fetchmail: fetching {total} mails")
        environment = dict(os.environ, FETCHMAILHOME=str(home), HOME=str(home))
        start = time.monotonic()
        out = subprocess.run(
            ["fetchmail", "-f", str(rc), "--nodetach", "--nosyslog", "-i", str(home / "ids"), "-s"],
            capture_output=True, text=True, env=environment, timeout=self.args.timeout,
        )
        seconds = time.monotonic() - start
        fetched = 0
        if output.exists():
            with open(output, "rb") as f:
                fetched = sum(1 for line in f if line.startswith(b"MAIL FROM:"))
        if out.returncode not in (0, 1) or fetched == 0:
            raise HarnessError(f"fetchmail failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
        self.emit("fetchmail", total=total, fetched=fetched, seconds=round(seconds, 2),
                  per_second=round(fetched / seconds, 1))

    # -- idle ------------------------------------------------------------------------------------------------

    def idle(self) -> None:
        assert self.dovecot and self.postdesk
        count, rate = self.args.idle_mails, self.args.rate
        self.wait_idle(self.args.timeout)
        time.sleep(2)  # let the last sessions enter IDLE
        log(f"idle: delivering {count} mails at {rate}/s by LMTP to random mailboxes")
        rng = random.Random(9)
        delivered: dict[str, float] = {}
        lmtp = smtplib.LMTP("127.0.0.1", self.dovecot.lmtp_port)
        try:
            start = time.monotonic()
            for k in range(count):
                target = start + k / rate
                pause = target - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                i = rng.randint(1, self.n)
                subject = f"idle {k} {os.getpid()}"
                raw = make_mail(f"i{k}@customer.test", self.dovecot.address(i), subject, f"idle-{k}@load.test")
                refused = lmtp.sendmail(f"i{k}@customer.test", [self.dovecot.address(i)], raw)
                if refused:
                    raise HarnessError(f"Dovecot LMTP refused {refused}")
                delivered[subject] = time.time()
        finally:
            try:
                lmtp.quit()
            except smtplib.SMTPException:
                pass
        latencies = self.collect(delivered, "idle")
        self.save_samples("idle", {"latencies_s": latencies})
        self.emit("idle", mails=count, rate_per_s=rate, received=len(latencies), **latency_summary(latencies))

    def collect(self, sent: dict[str, float], what: str) -> list[float]:
        """Waits until every Subject in `sent` has a processed inbound row; returns processedAt − sent time."""
        assert self.postdesk
        deadline = time.monotonic() + max(60, self.args.timeout / 4)
        found: dict[str, float] = {}
        with self.postdesk.connect_db() as db:
            while time.monotonic() < deadline:
                for subject, processed in db.execute(
                    "SELECT subject, processedAt FROM inbound WHERE processedAt IS NOT NULL AND subject LIKE ?",
                    (f"{what} %",),
                ):
                    if subject in sent:
                        found[subject] = parse_db_time(processed)
                if len(found) >= len(sent):
                    break
                time.sleep(0.25)
        if len(found) < len(sent):
            raise HarnessError(f"{what}: {len(found)} of {len(sent)} mails became requests in time")
        return [found[s] - t for s, t in sent.items()]

    # -- resources -------------------------------------------------------------------------------------------

    def resources(self) -> None:
        assert self.dovecot and self.postdesk
        self.wait_idle(self.args.timeout)
        settle = self.args.settle_seconds
        log(f"resources: {settle} s to settle, then CPU over {self.args.cpu_seconds} s")
        time.sleep(settle)
        pid = self.postdesk.pid
        cpu0, wall0 = cpu_seconds(pid), time.monotonic()
        time.sleep(self.args.cpu_seconds)
        cpu1, wall1 = cpu_seconds(pid), time.monotonic()
        self.emit(
            "resources", idle_channels=self.n, rss_mib=round(vm_rss_kib(pid) / 1024, 1),
            cpu_percent_of_one_core=round(100 * (cpu1 - cpu0) / (wall1 - wall0), 2),
            cpu_window_s=round(wall1 - wall0, 1), dovecot_rss_mib=round(self.dovecot.rss_kib() / 1024, 1),
            fds=len(os.listdir(f"/proc/{pid}/fd")),
        )

    # -- lmtp ------------------------------------------------------------------------------------------------

    def lmtp(self) -> None:
        assert self.postdesk
        if self.postdesk.lmtp_port is None:
            self.emit("lmtp", status="not available", reason="postdesk serve has no --lmtp-listen")
            return
        count, rate = self.args.idle_mails, self.args.rate
        addresses = [f"lm{i}@{DOMAIN}" for i in range(1, min(self.n, 100) + 1)]
        try:
            for address in addresses:
                self.postdesk.cli(["channel", "add", PROJECT, "--address", address, "--protocol", "lmtp",
                                   "--request-type", REQUEST_TYPE])
        except HarnessError as error:
            # The listener exists but LMTP channels cannot be linked this way: say so, and go on with the rest.
            self.emit("lmtp", status="failed", reason=str(error))
            return
        sink = LMTPSink()
        sink.start()
        smtpd = OpenSMTPD(self.base, self.postdesk.lmtp_port, sink.port)
        smtpd.start()
        rng = random.Random(25)
        results = {}
        for target_domain, label in ((SINK_DOMAIN, "sink"), (DOMAIN, "lmtp")):
            log(f"lmtp: {count} mails at {rate}/s through OpenSMTPD to {label}")
            sent: dict[str, float] = {}
            smtp = smtplib.SMTP("127.0.0.1", smtpd.port)
            try:
                start = time.monotonic()
                for k in range(count):
                    pause = start + k / rate - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    local = rng.choice(addresses).split("@")[0]
                    recipient = f"{local}@{target_domain}"
                    subject = f"{label} {k} {os.getpid()}"
                    raw = make_mail(f"l{k}@customer.test", recipient, subject, f"{label}-{k}@load.test")
                    # OpenSMTPD takes at most 100 messages per session (452 4.5.3 after): a new session every 50.
                    if k and k % 50 == 0:
                        smtp.quit()
                        smtp = smtplib.SMTP("127.0.0.1", smtpd.port)
                    sent[subject] = time.time()
                    smtp.sendmail(f"l{k}@customer.test", [recipient], raw)
            finally:
                try:
                    smtp.quit()
                except smtplib.SMTPException:
                    pass
            if label == "sink":
                deadline = time.monotonic() + 60
                while len(sink.arrivals) < count and time.monotonic() < deadline:
                    time.sleep(0.1)
                latencies = [sink.arrivals[s] - t for s, t in sent.items() if s in sink.arrivals]
                if len(latencies) < count:
                    raise HarnessError(f"lmtp sink: {len(latencies)} of {count} arrived")
            else:
                latencies = self.collect(sent, "lmtp")
            results[label] = latencies
            self.emit("lmtp-sink" if label == "sink" else "lmtp", mails=count, rate_per_s=rate,
                      received=len(latencies), **latency_summary(latencies))
        self.save_samples("lmtp", {"latencies_s": results["lmtp"], "sink_latencies_s": results["sink"]})
        smtpd.stop()


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postdesk", required=True, help="the postdesk binary (a release build)")
    parser.add_argument("--scenario", default="all",
                        help="link, drain, idle, lmtp, resources or all; comma-separated for several")
    parser.add_argument("--n", type=int, default=100, help="mailboxes (Dovecot users)")
    parser.add_argument("--mails", type=int, default=50, help="drain: mails per mailbox")
    parser.add_argument("--out", help="directory for results.jsonl and latency samples")
    parser.add_argument("--idle-mails", type=int, default=300, help="idle/lmtp: mails delivered one by one")
    parser.add_argument("--rate", type=float, default=20, help="idle/lmtp: mails per second")
    parser.add_argument("--cpu-seconds", type=float, default=60, help="resources: CPU measuring window")
    parser.add_argument("--settle-seconds", type=float, default=10, help="resources: wait after all are idle")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds any one step may take")
    parser.add_argument("--link-concurrency", type=int, default=8, help="parallel `channel add` without import")
    parser.add_argument("--no-import", action="store_true", help="link with `channel add` even if import exists")
    parser.add_argument("--no-fetchmail", action="store_true", help="drain: skip the fetchmail reference")
    parser.add_argument("--perf", help="drain: record postdesk with `perf record -e cpu-clock -g` into this file")
    parser.add_argument("--commit", help="label for the figures (default: git HEAD of the binary's checkout)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (configs, logs, DB)")
    parser.add_argument("--nodes", type=int, default=0,
                        help="0: one postdesk on SQLite (default); K > 0: a private PostgreSQL and K nodes on it "
                             "(link and drain only; see docs/SCALING.md)")
    parser.add_argument("--lease-seconds", type=int, default=10, help="--nodes: the nodes' --lease-seconds")
    parser.add_argument("--pg-unsafe", action="store_true",
                        help="--nodes: PostgreSQL with fsync, synchronous_commit and full_page_writes off")
    parser.add_argument("--pg-statements", action="store_true",
                        help="--nodes: load pg_stat_statements and log (and keep in --out) the drain's costliest "
                             "statements")
    args = parser.parse_args(argv)
    wanted = set(SCENARIOS) if args.scenario == "all" else set(args.scenario.split(","))
    unknown = wanted - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario {', '.join(sorted(unknown))}; use {', '.join(SCENARIOS)} or all")
    if args.n < 1 or args.mails < 1 or args.rate <= 0 or args.idle_mails < 1:
        parser.error("--n, --mails, --idle-mails and --rate must be positive")
    if args.nodes < 0:
        parser.error("--nodes must be 0 (SQLite) or more")
    if args.nodes > 0 and wanted - {"link", "drain"}:
        # idle, resources and lmtp read one node's status and process; on several nodes they would need the sum.
        parser.error(f"--nodes {args.nodes} runs the link and drain scenarios only, not "
                     f"{', '.join(sorted(wanted - {'link', 'drain'}))}")
    args.scenarios = wanted
    return args


def main(argv: list[str]) -> int:
    args = parse_arguments(argv)
    if os.geteuid() != 0:
        print("loadtest.py needs root (Dovecot's mail uid, OpenSMTPD's mount namespace)", file=sys.stderr)
        return 2
    # SIGINT explicitly too: a shell starts background jobs with SIGINT ignored, and Python keeps that.
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    try:
        run = Run(args)
        wanted = args.scenarios
        lmtp_wanted = "lmtp" in wanted
        run.start_servers(lmtp=lmtp_wanted and "--lmtp-listen" in Postdesk.serve_help(run.binary))
        run.link()  # every scenario needs the mailboxes linked; the figure is always reported
        # Pure idle first (resources, idle latency, LMTP), the drain last: it stops and restarts postdesk.
        if "resources" in wanted:
            run.resources()
        if "idle" in wanted:
            run.idle()
        if lmtp_wanted:
            run.lmtp()
        if "drain" in wanted:
            run.drain()
        return 0
    except HarnessError as error:
        print(f"loadtest.py: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("loadtest.py: interrupted, cleaning up", file=sys.stderr)
        return 130
    finally:
        run_cleanups()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
