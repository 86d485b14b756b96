"""Serving the app for a test or a measurement: `rag app` on a free port, and its memory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children, in MiB (Linux /proc)."""
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            kids = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")
        )
        todo += [int(k) for k in kids]
    return total / 1024


@dataclass
class Served:
    """A running `rag app` and how long it took to answer its health check."""

    process: subprocess.Popen[bytes]
    url: str
    startup_s: float
    log: Path


@contextmanager
def serve(
    roots: Sequence[Path], env: dict[str, str] | None = None, timeout: float = 90
) -> Iterator[Served]:
    """Start `rag app` on a free port and stop it afterwards (its log is kept in a temp file)."""
    port = free_port()
    cmd = [sys.executable, "-m", "rag.cli", "app", "--port", str(port)]
    for root in roots:
        cmd += ["--root", str(root)]
    log = Path(tempfile.mkstemp(prefix="memrag-app-", suffix=".log")[1])
    start = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"rag app exited with {process.returncode}: {log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"rag app did not answer within {timeout} s: {log.read_text()}")
            time.sleep(0.2)
        yield Served(process, url, time.perf_counter() - start, log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
