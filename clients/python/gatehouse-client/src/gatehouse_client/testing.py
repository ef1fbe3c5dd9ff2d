"""Runs a real ``gatehouse serve`` for tests: a fresh data directory, fixtures loaded from
an ``app_data`` folder, a free port on 127.0.0.1, stopped (SIGTERM) afterwards.

>>> with GatehouseServer("/path/to/gatehouse", app_data="app_data") as srv:   # doctest: +SKIP
...     Client(srv.url).login(email="admin@example.org", password="change-me-admin-1")

The binary is never looked for on ``PATH``: pass it, or set ``GATEHOUSE_BIN``. A missing
binary is an error (:class:`FileNotFoundError`), never a reason to skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Union

PathLike = Union[str, "os.PathLike[str]"]


def find_binary(repo_root: Optional[PathLike] = None) -> Path:
    """``$GATEHOUSE_BIN``, else ``<repo_root>/target/debug/gatehouse``; raises if absent."""
    env = os.environ.get("GATEHOUSE_BIN")
    if env:
        path = Path(env)
    elif repo_root is not None:
        path = Path(repo_root) / "target" / "debug" / "gatehouse"
    else:
        raise FileNotFoundError("set GATEHOUSE_BIN to the gatehouse binary")
    if not path.is_file() or not os.access(path, os.X_OK):
        raise FileNotFoundError(
            f"the gatehouse binary {path} is missing or not executable; build it with "
            "`cargo build` or point GATEHOUSE_BIN at it"
        )
    return path.resolve()


class GatehouseServer:
    """One ``gatehouse serve`` child process in its own temporary directory."""

    def __init__(
        self,
        binary: PathLike,
        *,
        app_data: Optional[PathLike] = None,
        env: Optional[Mapping[str, str]] = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.binary = Path(binary)
        self.app_data_source = Path(app_data) if app_data is not None else None
        self.extra_env: Dict[str, str] = dict(env or {})
        self.startup_timeout = startup_timeout
        self.dir: Optional[Path] = None
        self.proc: Optional["subprocess.Popen[str]"] = None
        self.addr: str = ""
        self.log: List[str] = []
        self._drain: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        return f"http://{self.addr}"

    def _env(self) -> Dict[str, str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GATEHOUSE_LOG": "warn"}
        env.update(self.extra_env)
        return env

    def run(self, *args: str, check: bool = True) -> "subprocess.CompletedProcess[str]":
        """Runs ``gatehouse ARGS`` in the server's directory (same database)."""
        if self.dir is None:
            raise RuntimeError("start() first")
        done = subprocess.run(
            [str(self.binary), *args],
            cwd=self.dir,
            env=self._env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and done.returncode != 0:
            raise RuntimeError(
                f"gatehouse {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        return done

    def start(self) -> "GatehouseServer":
        self.dir = Path(tempfile.mkdtemp(prefix="gatehouse-pytest-"))
        target = self.dir / "app_data"
        if self.app_data_source is not None:
            shutil.copytree(self.app_data_source, target)
        else:
            target.mkdir()
        self.run("fixtures", "load")
        self.proc = subprocess.Popen(
            [str(self.binary), "serve", "--listen", "127.0.0.1:0"],
            cwd=self.dir,
            env=self._env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        deadline = time.monotonic() + self.startup_timeout
        prefix = "gatehouse listening on http://"
        while True:
            line = self.proc.stderr.readline()
            if not line:
                code = self.proc.wait(timeout=5)
                raise RuntimeError(f"gatehouse serve exited ({code}) before listening:\n" + "".join(self.log))
            self.log.append(line)
            if line.strip().startswith(prefix):
                self.addr = line.strip()[len(prefix):]
                break
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("gatehouse serve did not start listening")
        stream = self.proc.stderr

        def drain() -> None:
            for rest in stream:
                self.log.append(rest)

        self._drain = threading.Thread(target=drain, daemon=True)
        self._drain.start()
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> "GatehouseServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
