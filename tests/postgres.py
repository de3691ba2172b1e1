"""A private PostgreSQL server for the tests: Debian's binaries (installed by `make test`), its own
data folder, listening on 127.0.0.1 on a free port, trusting local connections, stopped at the end.

PostgreSQL refuses to run as root: as root (CI), it runs as Debian's `postgres` user, in a folder
under /tmp that user can reach (pytest's own temporary folders are private to root).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time


def binaries() -> str | None:
    """The folder of `initdb` and `postgres`: Debian's newest version, or one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(path.split("/")[4]))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Postgres:
    USER = "autotrack"

    def __init__(self, bindir: str):
        self.bindir = bindir
        self.root = tempfile.mkdtemp(prefix="autotrack-postgres-")
        os.chmod(self.root, 0o755)
        self.data = os.path.join(self.root, "data")
        self.port = _free_port()
        self.process: subprocess.Popen | None = None
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def uri(self, database: str) -> str:
        return f"postgresql://{self.USER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        os.makedirs(self.data, mode=0o700)
        if self._as:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.data, "postgres")
        subprocess.run([*self._as, f"{self.bindir}/initdb", "-D", self.data, "-U", self.USER, "--auth=trust",
                        "-E", "UTF8", "--no-sync"], check=True, capture_output=True, timeout=120)
        log = open(os.path.join(self.root, "server.log"), "ab")
        self.process = subprocess.Popen(
            [*self._as, f"{self.bindir}/postgres", "-D", self.data, "-p", str(self.port), "-k", self.root,
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while subprocess.run([f"{self.bindir}/pg_isready", "-h", "127.0.0.1", "-p", str(self.port)],
                             capture_output=True).returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start:\n{self.log_tail()}")
            time.sleep(0.2)

    def create_database(self, name: str) -> str:
        psql = shutil.which("psql") or f"{self.bindir}/psql"
        subprocess.run([psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", self.USER, "-d", "postgres",
                        "-c", f'CREATE DATABASE "{name}"'], check=True, capture_output=True, timeout=60)
        return self.uri(name)

    def log_tail(self) -> str:
        try:
            with open(os.path.join(self.root, "server.log"), errors="replace") as handle:
                return "".join(handle.readlines()[-40:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
            self.process = None
        shutil.rmtree(self.root, ignore_errors=True)
