"""Who holds a lease (``storage.leases``): a name per process, and whether the process a lease
names is known dead, so a feed run or a webhook's deliveries resume at once after a crash on the
same host instead of waiting for the lease to run out."""

from __future__ import annotations

import os
import secrets
import socket


def owner() -> str:
    """``host:pid:random``: unique per holder, and says which process of which host holds it."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def holder_is_dead(holder: str | None) -> bool:
    """A lease held by a process of this host that no longer exists (killed, crashed)."""
    if not holder:
        return False
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
