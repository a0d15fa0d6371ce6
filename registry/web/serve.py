"""Run the app under gunicorn (or Flask's server with --dev).

Gunicorn runs threaded workers (``gthread``): the arbiter's timeout then watches each worker's
main loop, which stays alive while its threads serve, so a streamed export runs as long as it
needs (a sync worker is killed mid-response once a request outlives the timeout, and its client
gets a cut-short body), and the long-lived event streams to come hold a thread each, not a
process. A worker takes a connection only while it has a thread free (``worker_connections`` =
threads, no keep-alive, as the sync workers had none): a worker whose threads are all held by
long responses leaves new connections to the others instead of queueing them behind those.
"""

from __future__ import annotations

import gc
import os
import shutil

from registry.config import Settings


def _metrics_dir(settings: Settings) -> str:
    """A fresh folder for the workers' Prometheus files (each process writes its own)."""
    path = settings.instance_path / "prometheus"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return str(path)


def _scheduler_process():
    """``registry scheduler`` as a child of the server, stopped (SIGTERM) when the server stops:
    the scheduler's threads stay out of the process gunicorn forks its workers from."""
    import subprocess
    import sys
    from pathlib import Path

    command = Path(sys.executable).parent / "registry"
    return subprocess.Popen([str(command) if command.exists() else "registry", "scheduler"])


def _stop(process) -> None:
    import subprocess

    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()


# What to do about a request gunicorn cannot take, by status (its own reason follows).
_PROTOCOL_HINTS = {
    414: "the URL is too long: send long or many values in a JSON body (POST /api/v1/lookup)",
    431: "the request's headers are too large",
}


def _json_protocol_errors() -> None:
    """gunicorn answers a request it cannot read (a request line over 4094 bytes: 414, headers
    too large: 431, bad HTTP: 400) itself, as an HTML page; every other error of the API is
    the JSON error shape, so these are written as one too."""
    import orjson
    from gunicorn import util

    def write_error(sock, status_int, reason, mesg):
        hint = _PROTOCOL_HINTS.get(status_int, "the request is not HTTP this server reads")
        body = orjson.dumps({"error": {"code": reason.lower().replace(" ", "_"),
                                       "message": f"{hint} ({mesg})" if mesg else hint, "details": {}}})
        head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n")
        util.write_nonblock(sock, head.encode("latin-1") + body)

    util.write_error = write_error


def _cap_malloc_arenas(_arbiter, _worker) -> None:
    """glibc gives threads malloc arenas of their own (up to 8 per core) and keeps what each
    held at its peak: a worker whose threads had each built one large answer kept them all
    (16 MB for each 10,000-value batch of listed values). Two arenas keep a worker near one
    request's peak; with another C library this does nothing."""
    import contextlib
    import ctypes
    import ctypes.util

    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(ctypes.util.find_library("c")).mallopt(-8, 2)  # M_ARENA_MAX, 2


def gunicorn_settings(settings: Settings, *, host: str, port: int, workers: int) -> dict:
    """Gunicorn's settings from the command line and REGISTRY_WEB_*."""
    threads = settings.web_threads
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "worker_connections": threads,
        "keepalive": 0,
        "timeout": settings.web_timeout,
        # A stop or restart lets requests finish for this long, then cuts them (their clients
        # see an error, never a short body that looks complete).
        "graceful_timeout": settings.web_graceful_timeout,
        "accesslog": None,
    }


def run(settings: Settings, *, host: str, port: int, workers: int, dev: bool, scheduler: bool = False) -> None:
    if dev:
        from registry.web.app import create_app

        app = create_app(settings)
        feed_scheduler = None
        if scheduler:
            from registry.scheduler import FeedScheduler

            feed_scheduler = FeedScheduler(app.extensions["registry.db"], settings=settings)
            feed_scheduler.start()
        try:
            app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
        finally:
            if feed_scheduler is not None:
                feed_scheduler.stop()
        return
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", _metrics_dir(settings))
    _json_protocol_errors()
    from gunicorn.app.base import BaseApplication

    from registry.web.app import create_app

    server_settings = gunicorn_settings(settings, host=host, port=port, workers=workers)

    def child_exit(_server, worker):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

    children: list = []

    class Server(BaseApplication):
        def load_config(self):
            for name, value in server_settings.items():
                self.cfg.set(name, value)
            self.cfg.set("child_exit", child_exit)
            self.cfg.set("post_fork", _cap_malloc_arenas)
            if scheduler:
                self.cfg.set("when_ready", lambda _arbiter: children.append(_scheduler_process()))
                self.cfg.set("on_exit", lambda _arbiter: [_stop(p) for p in children])

        def load(self):
            app = create_app(settings)
            # Objects made at start-up live as long as the worker: keep them out of GC passes.
            gc.freeze()
            return app

    Server().run()
