"""Run the app under gunicorn (or Flask's server with --dev)."""

from __future__ import annotations

import gc
import os
import shutil

from registry import config


def _metrics_dir() -> str:
    """A fresh folder for the workers' Prometheus files (each process writes its own)."""
    path = config.instance_path() / "prometheus"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return str(path)


def run(*, host: str, port: int, workers: int, dev: bool) -> None:
    if dev:
        from registry.web.app import create_app

        create_app().run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
        return
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", _metrics_dir())
    from gunicorn.app.base import BaseApplication

    from registry.web.app import create_app

    def child_exit(_server, worker):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", None)
            self.cfg.set("child_exit", child_exit)
            self.cfg.set("graceful_timeout", 10)

        def load(self):
            app = create_app()
            # Objects made at start-up live as long as the worker: keep them out of GC passes.
            gc.freeze()
            return app

    Server().run()
