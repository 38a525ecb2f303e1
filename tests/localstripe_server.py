"""Run localstripe on 127.0.0.1 only, keeping its state in memory.

``localstripe --port N`` listens on every interface and saves its whole state to
/tmp/localstripe.pickle after each request, so two servers (the tests and a demo) would share
and clobber one file. This starts the same aiohttp app bound to loopback with saving turned off.

Usage: ``python tests/localstripe_server.py PORT``
"""

from __future__ import annotations

import sys

from aiohttp import web
from localstripe import resources, server


def main(port: int) -> None:
    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]
    web.run_app(server.app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main(int(sys.argv[1]))
