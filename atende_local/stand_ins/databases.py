"""Real database servers for the connector tests, started on loopback per test session.

* **PostgreSQL** and **MariaDB** from Debian (``postgresql``, ``mariadb-server``): a fresh
  data directory under ``/tmp`` (``initdb`` / ``mariadb-install-db``), the server on a free
  loopback port, a user ``atende`` / ``atende`` and a database ``erp``. Both refuse to run
  as root, so under root the data directory is handed to the package's own system user
  (``postgres``, ``mysql``) and the server runs as that user.
* **FerretDB** v1 (a MongoDB wire-protocol server in Go, built by ``install.sh`` into
  ``.atende/tools/bin/ferretdb``) over its SQLite backend, in its own directory.

Each ``start_*`` returns a :class:`Server` (``url`` for SQLAlchemy / pymongo, ``stop()``)
or raises :class:`Unavailable` with the reason (binary missing), which tests turn into a
skip. Nothing here is used by the platform itself.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = Path(os.environ.get("ATENDE_TOOLS_DIR", ROOT / ".atende" / "tools")) / "bin"
USER, PASSWORD, DATABASE = "atende", "atende", "erp"


class Unavailable(RuntimeError):
    """The server's binary is not installed here (``atende_local/stand_ins/install.sh``)."""


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    log: Path
    _cleanup: list[Callable[[], None]] = field(default_factory=list)
    #: PostgreSQL's SIGTERM waits for clients to leave; SIGINT is its "fast" shutdown.
    stop_signal: int = signal.SIGTERM

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for cleanup in self._cleanup:
            cleanup()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode}: {log.read_text()[-2000:]}"
            )
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise RuntimeError(
        f"server did not listen on {port} within {timeout} s: {log.read_text()[-2000:]}"
    )


def _owned_dir(prefix: str, system_user: str) -> tuple[Path, str | None]:
    """A fresh directory, owned by ``system_user`` when running as root."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() != 0:
        return path, None
    entry = pwd.getpwnam(system_user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(0o700)
    return path, system_user


def _run(argv: list[str], *, user: str | None, log: Path) -> None:
    with log.open("ab") as out:
        subprocess.run(  # noqa: S603 - fixed argv built here
            argv, check=True, stdout=out, stderr=subprocess.STDOUT, user=user, timeout=120
        )


# -- PostgreSQL ------------------------------------------------------------------------------


def postgres_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def start_postgres() -> Server:
    bindir = postgres_bin()
    if bindir is None:
        raise Unavailable("PostgreSQL is not installed (apt-get install postgresql)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError as exc:
            raise Unavailable("running as root needs the 'postgres' system user") from exc
    base, user = _owned_dir("atende-pg-", "postgres")
    data, log = base / "data", base / "server.log"
    log.touch()
    if user:
        shutil.chown(log, user)
    pwfile = base / "pw"
    pwfile.write_text(PASSWORD)
    if user:
        shutil.chown(pwfile, user)
    _run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            USER,
            "--pwfile",
            str(pwfile),
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C.UTF-8",
        ],
        user=user,
        log=log,
    )
    port = free_port()
    out = log.open("ab")
    process = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(base),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        user=user,
    )
    server = Server("postgresql", "", process, base, log, [out.close], signal.SIGINT)
    try:
        _wait_for_port(port, process, log, 30)
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(
                    host="127.0.0.1",
                    port=port,
                    user=USER,
                    password=PASSWORD,
                    dbname="postgres",
                    autocommit=True,
                ) as conn:
                    conn.execute(f"CREATE DATABASE {DATABASE}")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    except BaseException:
        server.stop()
        raise
    server.url = f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{port}/{DATABASE}"
    return server


# -- MariaDB ---------------------------------------------------------------------------------


def start_mariadb() -> Server:
    mariadbd = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin")
    install_db = shutil.which("mariadb-install-db")
    if not mariadbd or not install_db:
        raise Unavailable("MariaDB is not installed (apt-get install mariadb-server)")
    base, user = _owned_dir("atende-maria-", "mysql")
    data, log, init = base / "data", base / "server.log", base / "init.sql"
    log.touch()
    init.write_text(
        f"CREATE DATABASE IF NOT EXISTS {DATABASE};\n"
        f"CREATE USER IF NOT EXISTS '{USER}'@'%' IDENTIFIED BY '{PASSWORD}';\n"
        f"CREATE USER IF NOT EXISTS '{USER}'@'localhost' IDENTIFIED BY '{PASSWORD}';\n"
        f"GRANT ALL ON {DATABASE}.* TO '{USER}'@'%';\n"
        f"GRANT ALL ON {DATABASE}.* TO '{USER}'@'localhost';\n"
    )
    for path in (log, init):
        if user:
            shutil.chown(path, user)
    user_flag = [f"--user={user}"] if user else []
    _run(
        [
            install_db,
            "--no-defaults",
            f"--datadir={data}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
            *user_flag,
        ],
        user=None,
        log=log,
    )
    port = free_port()
    out = log.open("ab")
    process = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            mariadbd,
            "--no-defaults",
            f"--datadir={data}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={base / 'mysqld.sock'}",
            f"--pid-file={base / 'mysqld.pid'}",
            f"--init-file={init}",
            "--skip-name-resolve",
            "--skip-log-bin",
            "--innodb-flush-log-at-trx-commit=0",
            "--innodb-buffer-pool-size=32M",
            *user_flag,
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    server = Server("mariadb", "", process, base, log, [out.close])
    try:
        _wait_for_port(port, process, log, 60)
        import pymysql

        deadline = time.monotonic() + 30
        while True:
            try:
                pymysql.connect(
                    host="127.0.0.1", port=port, user=USER, password=PASSWORD, database=DATABASE
                ).close()
                break
            except pymysql.err.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    except BaseException:
        server.stop()
        raise
    server.url = f"mysql+pymysql://{USER}:{PASSWORD}@127.0.0.1:{port}/{DATABASE}"
    return server


# -- FerretDB --------------------------------------------------------------------------------


def ferretdb_bin() -> Path | None:
    built = TOOLS_BIN / "ferretdb"
    if built.exists():
        return built
    found = shutil.which("ferretdb")
    return Path(found) if found else None


def start_ferretdb() -> Server:
    binary = ferretdb_bin()
    if binary is None:
        raise Unavailable("FerretDB is not built (run atende_local/stand_ins/install.sh)")
    base = Path(tempfile.mkdtemp(prefix="atende-ferret-"))
    (base / "sqlite").mkdir()
    log = base / "server.log"
    port = free_port()
    out = log.open("ab")
    process = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            str(binary),
            "--handler=sqlite",
            f"--sqlite-url=file:{base / 'sqlite'}/",
            f"--listen-addr=127.0.0.1:{port}",
            f"--state-dir={base}",
            "--debug-addr=-",
            "--telemetry=disable",
            "--log-level=error",
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    server = Server("ferretdb", f"mongodb://127.0.0.1:{port}/", process, base, log, [out.close])
    try:
        _wait_for_port(port, process, log, 30)
    except BaseException:
        server.stop()
        raise
    return server
