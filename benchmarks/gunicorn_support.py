"""Serve the app with gunicorn for a load benchmark, and measure what its processes cost.

Shared by ``bench_consultation.py`` and ``bench_quick_yield.py``: a free port, gunicorn
started over given settings, a wait until it answers, one POST on a fresh connection, its
worker processes and their CPU time, and a look at its error log. Imported as a top-level
module: ``benchmarks/`` is on ``sys.path`` both under ``run.py`` and when a benchmark runs
as a script.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, settings: dict, options: list[str], log: Path,
                   env: dict | None = None) -> subprocess.Popen:
    """``web.wsgi:app`` under gunicorn on 127.0.0.1:``port``, configured by ``settings``
    (passed as ``FONDO_*`` variables, after ``env``), with ``options`` (workers, threads…)
    and warnings and errors logged to ``log``."""
    env = {**os.environ, **{f"FONDO_{k}": str(v) for k, v in settings.items()}, **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "web.wsgi:app", "--bind", f"127.0.0.1:{port}",
         *options, "--log-level", "warning", "--error-logfile", str(log)],
        cwd=ROOT, env=env)


def wait_until_up(port: int, server: subprocess.Popen, path: str, timeout_s: float) -> None:
    """Return once ``GET path`` answers; raise if gunicorn exits or ``timeout_s`` passes. [s]"""
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer within {timeout_s} s")


def stop(server: subprocess.Popen | None) -> None:
    """Terminate gunicorn if it still runs, and wait for it."""
    if server is not None and server.poll() is None:
        server.terminate()
        server.wait(timeout=30)


async def post(port: int, path: str, body: bytes, headers: str = "") -> tuple[int, float]:
    """One POST on a fresh connection: (status, seconds). ``headers`` are extra header lines,
    each ending in ``\\r\\n``."""
    t0 = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}"
                     f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                     "Connection: close\r\n\r\n".encode() + body)
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        await reader.read()  # headers and body, up to the server's close
    finally:
        writer.close()
    return status, time.perf_counter() - t0


def workers(server: subprocess.Popen) -> list[int]:
    """gunicorn's worker processes (children of the master)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == server.pid:
                out.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return out


def cpu_s(pids: list[int]) -> float:
    """CPU time (user + system) the processes have used so far. [s]"""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def logged_errors(log: Path) -> bool:
    """Whether gunicorn's error log holds a traceback or an error; if so, print its tail."""
    text = log.read_text()
    if "Traceback" in text or "[ERROR]" in text:
        print(f"gunicorn logged errors (kept in {log}):\n{text[-2000:]}", flush=True)
        return True
    return False
