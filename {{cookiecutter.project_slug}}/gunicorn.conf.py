"""Gunicorn settings for production, read from the environment.

Run with ``gunicorn --config gunicorn.conf.py``.
"""

import contextlib
import math
import os
import socket
import struct
from collections.abc import Collection

from gunicorn.workers.sync import SyncWorker

wsgi_app = "{{ cookiecutter.package_name }}.wsgi:app"
bind = os.environ.get("BIND", "127.0.0.1:8000")
accesslog = "-"
errorlog = "-"

CGROUP_CPU_MAX = "/sys/fs/cgroup/cpu.max"  # cgroup v2: "QUOTA PERIOD" or "max PERIOD"


def read_cpu_max(path: str = CGROUP_CPU_MAX) -> str | None:
    """The cgroup's CPU quota line, or None outside a limited cgroup (or not Linux)."""
    try:
        with open(path) as file:
            return file.read()
    except OSError:
        return None


def usable_cpus(affinity: Collection[int], cpu_max: str | None) -> int:
    """The CPUs this process may really use: at least 1.

    os.cpu_count() is the host's count, even in a container limited to 2 CPUs
    on a 64-core node; the limit is the CPU affinity and the cgroup's quota
    (a quota of 1.5 CPUs gets 2, since workers mostly wait on I/O).
    """
    cpus = len(affinity)
    quota, _, period = (cpu_max or "").strip().partition(" ")
    if quota.isdigit() and period.isdigit() and int(period) > 0:
        cpus = min(cpus, math.ceil(int(quota) / int(period)))
    return max(1, cpus)


def process_affinity() -> Collection[int]:
    """The CPUs the scheduler lets this process run on (all of them off Linux)."""
    if hasattr(os, "sched_getaffinity"):
        return os.sched_getaffinity(0)
    return range(os.cpu_count() or 1)


# Two workers per usable CPU plus one; WEB_CONCURRENCY, when set, wins.
workers = int(
    os.environ.get(
        "WEB_CONCURRENCY", 2 * usable_cpus(process_affinity(), read_cpu_max()) + 1
    )
)

RESET_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close sends RST
CLOSE_GRACEFULLY = struct.pack("ii", 0, 0)


def hold_until_complete(connection: socket.socket) -> None:
    """Until released, a death of this process resets the connection, and
    what was written stays in the kernel (TCP_CORK, Linux) rather than going
    out as half a response."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_ON_CLOSE)
    if hasattr(socket, "TCP_CORK"):
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)


def release(connection: socket.socket) -> None:
    """The response is complete: a normal close again, then send what is held."""
    with contextlib.suppress(OSError):  # gunicorn may have closed it already
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, CLOSE_GRACEFULLY)
        if hasattr(socket, "TCP_CORK"):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)


class AllOrNothingWorker(SyncWorker):
    """gunicorn's sync worker, except that a worker killed mid-response (the
    OOM killer, SIGKILL) resets its connection instead of leaving half a
    response behind.

    gunicorn writes a response's headers and body separately. A proxy that
    has passed the headers on cannot retry the request elsewhere; a proxy
    whose connection was reset before any byte came back can, and nginx does
    (proxy_next_upstream, deploy/nginx.conf). Whole for responses that fit in
    one TCP segment; a larger body streams as before.
    """

    def handle_request(self, listener, req, client, addr):
        hold_until_complete(client)
        try:
            return super().handle_request(listener, req, client, addr)
        finally:
            release(client)


worker_class = AllOrNothingWorker


def on_starting(server: object) -> None:
    """Check the settings once, in the master, before any worker starts: a
    policy below the floor (or no secret key) stops gunicorn with its one line,
    not a traceback from every worker."""
    from {{ cookiecutter.package_name }} import create_app
    from {{ cookiecutter.package_name }}.security import PolicyError

    try:
        create_app()
    except PolicyError as error:
        raise SystemExit(f"error: {error}") from None


def worker_exit(server: object, worker: object) -> None:
    """A worker stopping (graceful stop, SIGTERM) writes the counts of CSP
    violations it still holds, so the log accounts for every one."""
    from {{ cookiecutter.package_name }}.security.reports import close_all

    close_all()


# Workers' heartbeat files go in memory: a read-only root filesystem (see
# deploy/kubernetes.yaml) then works, and a slow disk cannot stall a worker.
# gunicorn makes its files there with mkstemp, so a shared directory is safe.
IN_MEMORY = "/dev/shm"  # noqa: S108
worker_tmp_dir = IN_MEMORY if os.path.isdir(IN_MEMORY) else None

# One knob decides whom to trust: the app's TRUSTED_PROXY_HOPS (ProxyFix), which
# counts the hops. gunicorn believes no X-Forwarded-* at all, not even from
# localhost (its default): it would add nothing to ProxyFix, and a client's own
# X-Forwarded-Ssl passed through a proxy could make it answer 400 without the
# security headers.
forwarded_allow_ips = ""
