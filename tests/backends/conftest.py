"""A real MLflow tracking server for the backend tests: started once per session on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

# MLflow's client and server send usage telemetry by default; the tests reach only 127.0.0.1.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

START_TIMEOUT_S = 120  # a new PostgreSQL database is migrated to MLflow's schema first


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MlflowServer:
    """`mlflow server` with a SQLite backend store (or `backend_store_uri`, a PostgreSQL database)
    and proxied artifacts under `root`; stop() and start() again keep its port and database, as a
    restarted team server would."""

    def __init__(self, root: Path, backend_store_uri: str | None = None):
        self.root = root
        self.backend_store_uri = backend_store_uri or f"sqlite:///{root / 'mlflow.db'}"
        self.port = _free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.log_path = root / "server.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1",
                   "--port", str(self.port), "--workers", "1",
                   "--backend-store-uri", self.backend_store_uri,
                   "--artifacts-destination", str(self.root / "artifacts")]
        env = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")}
        # No background job runner (it starts a dozen huey processes the tests never use).
        env.update(MLFLOW_DISABLE_TELEMETRY="true", MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
        with open(self.log_path, "ab") as log:
            # Its own process group, so that stop() reaches uvicorn's worker too.
            self.process = subprocess.Popen(command, cwd=self.root, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"mlflow server did not answer on {self.uri}/health within "
                            f"{START_TIMEOUT_S} s:\n{self.log_tail()}", pytrace=False)
            time.sleep(0.2)

    def healthy(self) -> bool:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(f"{self.uri}/health", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Terminate the server's process group; kill it if it has not ended within 10 s."""
        if self.process is None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(wait)
                # uvicorn's worker may outlive its parent for a moment: wait for the port to close.
                if not _port_open(self.port):
                    break
            except subprocess.TimeoutExpired:
                continue
        self.process = None

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _port_open(port: int) -> bool:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return False
        time.sleep(0.1)
    return True


@pytest.fixture(scope="session")
def mlflow_process(tmp_path_factory) -> MlflowServer:
    pytest.importorskip("mlflow")
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-server"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mlflow_server(mlflow_process) -> str:
    """The tracking URI of a real MLflow server (one per test session)."""
    return mlflow_process.uri


@pytest.fixture
def mlflow_restartable(mlflow_process) -> MlflowServer:
    """The server itself, for fault tests: `.stop()`, `.start()` (same port and database).
    Whatever the test did, the server is running again afterwards."""
    yield mlflow_process
    if not mlflow_process.running or not mlflow_process.healthy():
        mlflow_process.stop()
        mlflow_process.start()


@pytest.fixture(scope="session")
def team_server(tmp_path_factory) -> MlflowServer:
    """The team set-up README describes: an MLflow server whose backend store is a PostgreSQL
    database (Debian's PostgreSQL, installed by `make test`), serving the artifacts itself."""
    pytest.importorskip("mlflow")
    pytest.importorskip("psycopg")
    from postgres import Postgres, binaries

    bindir = binaries()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL's server is not installed: `make test` installs it (make postgres)")
        pytest.skip("PostgreSQL's server is not installed (make postgres)")
    database = Postgres(bindir)
    database.start()
    try:
        server = MlflowServer(tmp_path_factory.mktemp("mlflow-postgres"), database.create_database("mlflow"))
        server.start()
        yield server
        server.stop()
    finally:
        database.stop()
