"""The send commands' shared part: the sweep options, the ``--watch`` / ``--forever`` loop
(``services.outbox.repeat_sweeps``) and the closing count."""

from __future__ import annotations

import contextlib
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ..services import outbox as outbox_engine


class SweepCommand(BaseCommand):
    """A command that sweeps an outbox; a subclass gives ``sweep_once``, ``pending`` and the
    texts."""

    #: The help of ``--watch``.
    watch_help = "Keep sweeping until nothing is left to send."
    #: The closing line, with ``{total}``.
    done_message = "{total} row(s) handled."

    def sweep_once(self, *, batch_size: int | None, max_batches: int | None) -> int:
        raise NotImplementedError

    def pending(self) -> bool:
        raise NotImplementedError

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=None, help="Rows per batch.")
        parser.add_argument("--max-batches", type=int, default=None, help="Batches per sweep.")
        parser.add_argument("--watch", action="store_true", help=self.watch_help)
        parser.add_argument(
            "--forever", action="store_true", help="Keep sweeping until interrupted (Ctrl-C)."
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds between sweeps with --watch."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        with contextlib.suppress(KeyboardInterrupt):
            total = self.sweep(options)
        self.stdout.write(self.done_message.format(total=total))

    def sweep(self, options: dict[str, Any]) -> int:
        return outbox_engine.repeat_sweeps(
            lambda: self.sweep_once(
                batch_size=options["batch_size"], max_batches=options["max_batches"]
            ),
            watch=options["watch"],
            forever=options["forever"],
            interval=options["interval"],
            pending=self.pending,
        )
