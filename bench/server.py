"""The application as the benchmarks run it: gunicorn with production settings, on a free port of loopback.

Shared by bench/desk.py, bench/api.py, bench/requests.py and bench/load.py.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench._project import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def production_env(data_dir: Path) -> dict[str, str]:
    """Production settings with a generated ``SECRET_KEY``, for a client on loopback that plays the TLS proxy
    (it sends ``X-Forwarded-Proto: https``); static files and data under the throw-away ``data_dir``."""
    env = {
        **os.environ,
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "http://127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def collectstatic(env: dict[str, str], *, root: Path = ROOT) -> None:
    print("[gunicorn] collectstatic into the throw-away DATA_DIR", flush=True)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], env=env, cwd=root, check=True
    )


def parse_server(spec: str) -> tuple[str, int, int]:
    """ "sync:4" or "gthread:2x8" (workers x threads)."""
    match = re.fullmatch(r"(sync|gthread):(\d+)(?:x(\d+))?", spec)
    if not match:
        raise argparse.ArgumentTypeError(f"{spec!r}: use sync:WORKERS or gthread:WORKERSxTHREADS")
    kind, workers, threads = match.group(1), int(match.group(2)), int(match.group(3) or 1)
    if kind == "sync" and threads != 1:
        raise argparse.ArgumentTypeError(f"{spec!r}: sync workers have one thread")
    return kind, workers, threads


def answers(port: int, path: str) -> int:
    """The status of one GET, as the TLS proxy would pass it on."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": f"127.0.0.1:{port}", "X-Forwarded-Proto": "https"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def start_gunicorn(
    env: dict[str, str], spec: str, *, log: Path, root: Path = ROOT
) -> tuple[subprocess.Popen[bytes], int, str]:
    """gunicorn (``sync:WORKERS`` or ``gthread:WORKERSxTHREADS``) with ``env``, serving the code of ``root``
    (a checkout), once it answers ``/``; returns the process, its port and the command as shown in results."""
    kind, workers, threads = parse_server(spec)
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "helpdesk.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        kind,
        "--workers",
        str(workers),
        *(["--threads", str(threads)] if kind == "gthread" else []),
        "--access-logfile",
        "-" if os.environ.get("BENCH_ACCESS_LOG") else "/dev/null",
    ]
    shown = " ".join(["gunicorn", *command[1:3], "127.0.0.1:PORT", *command[4:-2]])
    process = subprocess.Popen(  # noqa: S603 - our own virtualenv's gunicorn
        command, env=env, cwd=root, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if answers(port, "/") == 200:
                print(f"[gunicorn] {shown} (pid {process.pid})", flush=True)
                return process, port, shown
        except OSError:
            pass
        time.sleep(0.2)
    stop_process(process)
    raise SystemExit(f"gunicorn did not answer in 30 s:\n{log.read_text()[-3000:]}")


def stop_process(process: subprocess.Popen[bytes], *, grace: float = 10) -> None:
    """Ask a server (gunicorn, a Celery worker or beat) to shut down; kill it after ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
