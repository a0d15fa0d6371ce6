"""Run the app under gunicorn (or Flask's server with --dev)."""

from __future__ import annotations


def run(*, host: str, port: int, workers: int, dev: bool) -> None:
    from registry.web.app import create_app

    if dev:
        create_app().run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
        return
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("preload_app", False)

        def load(self):
            return create_app()

    Server().run()
