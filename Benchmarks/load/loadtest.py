#!/usr/bin/env python3
"""Load harness for postdesk: many mailboxes on a private Dovecot (and OpenSMTPD for LMTP).

usage: loadtest.py --postdesk PATH/TO/postdesk --scenario S --n N [--mails M] [--out DIR]
  S in: link, drain, idle, lmtp, resources, all (comma-separated lists work too).

Prints one JSON object per measurement on stdout (progress goes to stderr). With --out DIR it also appends
them to DIR/results.jsonl and writes the latency samples to DIR/latency-<scenario>-n<N>.json for plot.py.

Needs root (Dovecot's mail uid, OpenSMTPD's mount namespace), Dovecot 2.3 (imapd, lmtpd), fetchmail for the
drain reference and OpenSMTPD for the lmtp scenario (scripts/install-deps.sh installs them). Python 3.11
standard library only. Everything lives in one temporary directory, removed at exit unless --keep; Dovecot,
postdesk and OpenSMTPD are stopped on exit, on Ctrl-C and on SIGTERM.
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
    """GRDB stores dates as 'YYYY-MM-DD HH:MM:SS.SSS' in UTC."""
    text = text.replace("T", " ").rstrip("Z")
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.timezone.utc).timestamp()


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


class Postdesk:
    """`postdesk serve` with its own data directory and admin socket, and the admin CLI against it."""

    def __init__(self, binary: Path, base: Path, lmtp_port: int | None):
        self.binary = binary
        self.data = base / "postdesk"
        self.data.mkdir(parents=True, exist_ok=True)
        self.socket = self.data / "admin.sock"
        self.db = self.data / "postdesk.sqlite"
        self.log_file = self.data / "server.log"
        self.lmtp_port = lmtp_port
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
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
        arguments = [
            str(self.binary), "serve", "--data-dir", str(self.data), "--socket", str(self.socket),
            "--sender-rate-limit", "0", "--log-level", "warning",
        ]
        if self.lmtp_port is not None:
            arguments += ["--lmtp-listen", f"127.0.0.1:{self.lmtp_port}"]
        log_handle = open(self.log_file, "ab")
        self.started_at = time.time()
        self.process = subprocess.Popen(arguments, stdout=log_handle, stderr=log_handle, stdin=subprocess.DEVNULL)
        log_handle.close()
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

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
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

    def connect_db(self) -> sqlite3.Connection:
        """A read-only connection to postdesk's SQLite file (WAL: it sees every committed transaction)."""
        connection = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        connection.execute("PRAGMA busy_timeout = 30000")
        return connection


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
        self.postdesk: Postdesk | None = None
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
            "commit": self.commit, "load_avg": load_average(), **fields,
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
        self.postdesk = Postdesk(self.binary, self.base, lmtp_port)
        log("starting postdesk serve")
        self.postdesk.start()
        self.postdesk.cli(["project", "create", PROJECT, "--name", "Load", "--signup", "public"])
        self.postdesk.cli([
            "request-type", "add", PROJECT, REQUEST_TYPE,
            "--field", "summary:visible:required", "--field", "description:visible:required",
        ])

    def link(self) -> dict:
        """Links u1..uN: `channel import` when the binary has it, else one `channel add` each, 8 at a time."""
        assert self.dovecot and self.postdesk
        password_file = self.base / "password"
        password_file.write_text(PASSWORD)
        os.chmod(password_file, 0o600)
        addresses = [self.dovecot.address(i) for i in range(1, self.n + 1)]
        use_import = not self.args.no_import and self.postdesk.has_command("channel", "import")
        log(f"linking {self.n} mailboxes with {'channel import' if use_import else 'channel add'}")
        start = time.monotonic()
        if use_import:
            csv_file = self.base / "channels.csv"
            with open(csv_file, "w") as f:
                f.write("project,address,protocol,host,port,tls,username,password-file,request-type\n")
                for address in addresses:
                    f.write(f"{PROJECT},{address},imap,127.0.0.1,{self.dovecot.imap_port},none,{address},"
                            f"{password_file},{REQUEST_TYPE}\n")
            self.postdesk.cli(["channel", "import", str(csv_file)])
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
        with self.postdesk.connect_db() as db:
            before = db.execute("SELECT count(*) FROM inbound").fetchone()[0]
        log("stopping postdesk for the backlog")
        self.postdesk.stop()
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
        log(f"backlog written in {written:.1f} s and indexed; starting postdesk")
        self.postdesk.start()
        pid = self.postdesk.pid
        cpu_start = cpu_seconds(pid)
        started = self.postdesk.started_at
        perf = None
        if self.args.perf:
            # cpu-clock: a software event, available in VMs without hardware counters.
            perf = subprocess.Popen(
                ["perf", "record", "-e", "cpu-clock", "-g", "-p", str(pid), "-o", self.args.perf],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        wanted = before + total
        deadline = time.monotonic() + self.args.timeout
        done = 0
        peak_rss = 0
        last_log = 0.0
        with self.postdesk.connect_db() as db:
            while time.monotonic() < deadline:
                done = db.execute("SELECT count(*) FROM inbound WHERE processedAt IS NOT NULL").fetchone()[0]
                peak_rss = max(peak_rss, vm_rss_kib(pid))
                if done >= wanted:
                    break
                if time.monotonic() - last_log > 10:
                    log(f"drain: {done - before} of {total} processed")
                    last_log = time.monotonic()
                time.sleep(0.1)
            finished = time.time()
            cpu = cpu_seconds(pid) - cpu_start
            if perf is not None:
                perf.send_signal(signal.SIGINT)
                try:
                    perf.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    perf.kill()
            rows = db.execute(
                "SELECT count(*), count(DISTINCT requestKey), count(DISTINCT messageId), "
                "sum(outcome = 'created'), min(fetchedAt), max(fetchedAt), max(processedAt) "
                "FROM inbound WHERE subject LIKE 'drain %'"
            ).fetchone()
            requests = db.execute("SELECT count(*) FROM request WHERE summary LIKE 'drain %'").fetchone()[0]
            duplicates = db.execute(
                "SELECT count(*) FROM (SELECT messageId FROM inbound WHERE subject LIKE 'drain %' "
                "GROUP BY messageId HAVING count(*) > 1)"
            ).fetchone()[0]
        if done < wanted:
            raise HarnessError(f"drain: {done - before} of {total} processed after {self.args.timeout} s")
        inbound, distinct_keys, distinct_ids, created, first_fetch, last_fetch, last_processed = rows
        seconds = parse_db_time(last_processed) - started
        fetch_to_commit = parse_db_time(last_processed) - parse_db_time(first_fetch)
        self.emit(
            "drain", mails=m, total=total, seconds=round(seconds, 2), per_second=round(total / seconds, 1),
            first_fetch_to_last_commit_s=round(fetch_to_commit, 2),
            per_second_from_first_fetch=round(total / fetch_to_commit, 1) if fetch_to_commit > 0 else None,
            cpu_seconds=round(cpu, 2), cpu_ms_per_mail=round(1000 * cpu / total, 3),
            peak_rss_mib=round(peak_rss / 1024, 1),
            inbound_rows=inbound, created=created, distinct_request_keys=distinct_keys,
            distinct_message_ids=distinct_ids, requests=requests, duplicates=duplicates,
            exactly_once=(inbound == total and created == total and distinct_keys == total and duplicates == 0),
            backlog_write_s=round(written, 2), wall_s=round(finished - started, 2),
        )
        if not self.args.no_fetchmail:
            # postdesk marked the backlog \Seen; fetchmail gets it unread, as postdesk did.
            self.doveadm("flags", "remove", "-A", "\\Seen", "mailbox", "INBOX", "all")
            self.fetchmail(total)

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
    args = parser.parse_args(argv)
    wanted = set(SCENARIOS) if args.scenario == "all" else set(args.scenario.split(","))
    unknown = wanted - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario {', '.join(sorted(unknown))}; use {', '.join(SCENARIOS)} or all")
    if args.n < 1 or args.mails < 1 or args.rate <= 0 or args.idle_mails < 1:
        parser.error("--n, --mails, --idle-mails and --rate must be positive")
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
