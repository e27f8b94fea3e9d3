"""Ports for the servers the tests start (app, identity provider, nginx,
SMTP), on 127.0.0.1."""
import os
import random
import socket

# Each xdist worker counts up through a
# range of its own, from a random point, below the kernel's ephemeral ports
# (32768 and up). A port the kernel hands out for any free one (bind to 0)
# can be handed again to another worker's server before the first server
# binds it; two servers started at once took the same port that way.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_next_port = (20000 + 3000 * (int(_WORKER[2:]) % 4 if _WORKER[2:].isdigit()
                              else 0) + random.randrange(2000))


def free_port() -> int:
    """The next port of this worker's range that nothing holds."""
    global _next_port
    while True:
        port, _next_port = _next_port, _next_port + 1
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
