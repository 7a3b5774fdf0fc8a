"""`make run`: migrate, seed the demo, then run the web server, a Celery worker and Celery beat together.

On embedded defaults this needs no server at all (SQLite file and a filesystem Celery broker under
var/); with DATABASE_URL and CELERY_BROKER_URL set, the same command uses PostgreSQL and Redis.
Ctrl-C (or SIGTERM) stops all three; if one of them dies, the others are stopped too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "8000")
URL = f"http://{HOST}:{PORT}"
# Emails (to customers and staff) land as files you can open, unless an email backend is configured.
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
os.environ.setdefault("SITE_URL", URL)

PROCESSES = {
    "web": [PYTHON, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload"],
    "worker": [PYTHON, "-m", "celery", "-A", "helpdesk", "worker", "--loglevel", "INFO", "--concurrency", "2"],
    "beat": [PYTHON, "-m", "celery", "-A", "helpdesk", "beat", "--loglevel", "INFO"],
}


def manage(*args: str, capture: bool = False) -> str:
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [PYTHON, "manage.py", *args], cwd=ROOT, check=True, text=True, capture_output=capture
    )
    return result.stdout or ""


def wait_until_serving(deadline_seconds: float = 60) -> bool:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{URL}/healthz", timeout=2):  # noqa: S310 - our own local URL
                return True
        except OSError as error:  # connection refused, or 503 while the worker starts: keep waiting
            if getattr(error, "code", None) == 503:
                return True
            time.sleep(0.5)
    return False


def stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for name, child in children.items():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop in time; killing it", file=sys.stderr)
            child.kill()


def main() -> int:
    print("Preparing the database…", flush=True)
    manage("migrate", "--noinput", "-v", "0")
    print("Seeding the demo data (idempotent)…", flush=True)
    seed_report = manage("seed_demo", capture=True)

    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    children = {
        name: subprocess.Popen(command, cwd=ROOT)  # noqa: S603 - fixed commands
        for name, command in PROCESSES.items()
    }
    exit_code = 0
    try:
        if wait_until_serving():
            print(f"\n{seed_report}\nPromise Desk is running at {URL}/", flush=True)
            print(f"  the desk: {URL}/desk/   administration: {URL}/admin/   health: {URL}/healthz", flush=True)
            mail = os.environ.get("EMAIL_FILE_PATH") or Path(os.environ.get("DATA_DIR") or ROOT / "var") / "mail"
            print(f"  customers ask at {URL}/ ; emails are written to {mail}/", flush=True)
            print("  web, Celery worker and Celery beat are running; press Ctrl-C to stop them all.\n", flush=True)
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"{name} exited with code {child.returncode}; stopping the others.", file=sys.stderr)
                    stopping, exit_code = True, 1
                    break
            time.sleep(0.5)
    finally:
        print("Stopping web, worker and beat…", flush=True)
        stop(children)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
