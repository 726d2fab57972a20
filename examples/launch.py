"""Start the example programs as real subprocesses (used by ``python -m examples`` and the tests)."""
import os
import shutil
import socket
import subprocess
import sys
from typing import Dict, List, Optional

from redis_checkpoint.testing import free_port, stop_process, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def env_for(url: str, prefix: str, **extra: str) -> Dict[str, str]:
    env = dict(os.environ, REDIS_URL=url, CHECKPOINT_PREFIX=prefix, **extra)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def wait_port(port: int, proc: "subprocess.Popen[bytes]", timeout: float = 60.0) -> None:
    def listening() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    wait_until(listening, timeout, f"nothing listens on port {port}")


def _bin(name: str) -> str:
    """The console script next to this interpreter (the virtualenv's), else on PATH."""
    local = os.path.join(os.path.dirname(sys.executable), name)
    found = local if os.path.exists(local) else shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed: pip install 'redis-checkpoint[{name}]'")
    return found


def gunicorn(url: str, prefix: str, workers: int = 4) -> "tuple[subprocess.Popen[bytes], int]":
    port = free_port()
    proc = subprocess.Popen(
        [_bin("gunicorn"), "--preload", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "examples.wsgi_app:app"],
        cwd=ROOT, env=env_for(url, prefix),
    )
    wait_port(port, proc)
    return proc, port


def uvicorn(url: str, prefix: str, workers: int = 2) -> "tuple[subprocess.Popen[bytes], int]":
    port = free_port()
    proc = subprocess.Popen(
        [_bin("uvicorn"), "--workers", str(workers), "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "examples.asgi_app:app"],
        cwd=ROOT, env=env_for(url, prefix),
    )
    wait_port(port, proc)
    return proc, port


def django(url: str, prefix: str) -> "tuple[subprocess.Popen[bytes], int]":
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "examples/djangoapp/manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env_for(url, prefix),
    )
    wait_port(port, proc)
    return proc, port


def celery_worker(url: str, prefix: str, queue: str, concurrency: int = 2,
                  extra: Optional[List[str]] = None) -> "subprocess.Popen[bytes]":
    return subprocess.Popen(
        [_bin("celery"), "-A", "examples.celery_app", "worker", "--pool", "prefork",
         "--concurrency", str(concurrency), "-Q", queue, "--loglevel", "warning",
         "--without-gossip", "--without-mingle", "--without-heartbeat", *(extra or [])],
        cwd=ROOT, env=env_for(url, prefix, CHECKPOINT_QUEUE=queue),
    )


def stop(proc: "subprocess.Popen[bytes]", timeout: float = 30.0) -> None:
    stop_process(proc, timeout)
