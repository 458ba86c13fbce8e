"""Gunicorn, embedded: `vigil web` runs N worker processes; `vigil serve` runs one and the job loop beside it.

Why gunicorn: the most used production WSGI server for Django, maintained, pure Python, with a
process manager that restarts a dead worker and drains requests on SIGTERM. Its gthread workers
suit Django's synchronous ORM; an ASGI server would buy nothing for that code.
"""

import threading

from django.db import connections
from gunicorn.app.base import BaseApplication


class Server(BaseApplication):
    def __init__(self, options):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from vigil.wsgi import application

        return application


def run(host, port, workers, threads=4, with_job_loop=False):
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 20,
        "accesslog": "-",
        "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
        "errorlog": "-",
        "proc_name": "vigil",
    }
    if with_job_loop:
        options["post_worker_init"] = _start_job_loop
        options["worker_exit"] = _stop_job_loop
    # Connections opened before the fork (migrations, checks) must not be shared with the workers.
    connections.close_all()
    Server(options).run()


def _start_job_loop(gunicorn_worker):
    from vigil.worker import Worker

    worker = Worker()
    thread = threading.Thread(target=worker.run_forever, name="vigil-worker", daemon=True)
    gunicorn_worker.vigil_job_loop = (worker, thread)
    thread.start()


def _stop_job_loop(server, gunicorn_worker):
    worker, thread = getattr(gunicorn_worker, "vigil_job_loop", (None, None))
    if worker is not None:
        worker.stop.set()
        thread.join(timeout=15)
