"""A private PostgreSQL cluster a test can stop and start: ``initdb``/``pg_ctl`` on a free port.

The shared server (127.0.0.1:5432) belongs to every test; stopping it would break the others.
This one lives in the test's temporary directory and dies with it. The binaries come from
``/usr/lib/postgresql/*/bin``; without them the test skips only when ``CI`` is unset. When the
tests run as root (a container), the cluster runs as the ``postgres`` user, since PostgreSQL
refuses to run as root.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port


def pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are missing and CI is set")
        pytest.skip("PostgreSQL server binaries are not installed (and CI is unset)")
    return Path(found[-1]).parent


@dataclass
class Cluster:
    bin: Path
    data: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=60)

    def init(self) -> None:
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root without a postgres user to run the cluster as")
            self.data.parent.chmod(0o755)
            self.data.mkdir(mode=0o700)
            os.chown(self.data, account.pw_uid, account.pw_gid)
            self.log.touch()
            os.chown(self.log, account.pw_uid, account.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "30", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")

    def running(self) -> bool:
        command = [str(self.bin / "pg_ctl"), "-D", str(self.data), "status"]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, timeout=30).returncode == 0


@contextlib.contextmanager
def private_cluster() -> Iterator[Cluster]:
    """An initialised, started cluster; stopped and removed afterwards.

    It lives in its own directory under the system's temporary directory (not pytest's, which
    another user — ``postgres``, when the tests run as root — cannot enter).
    """
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser")
    binaries = pg_bin()
    base = Path(tempfile.mkdtemp(prefix="wagate-pg-"))
    cluster = Cluster(binaries, base / "data", free_port(), base / "server.log")
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if cluster.running():
            cluster.stop()
        shutil.rmtree(base, ignore_errors=True)
