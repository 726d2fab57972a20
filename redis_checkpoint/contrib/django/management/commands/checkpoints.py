"""``manage.py checkpoints [--using NAME] <command> ...``: the command line's commands
(``threads``, ``history``, ``show``, ``rollback``, ``delete``, ``prune``, ``export``,
``import``, ``stats``) on a checkpointer of ``settings.REDIS_CHECKPOINT``."""
from __future__ import annotations

import argparse
from typing import Any, List

from django.core.management.base import BaseCommand, CommandError

from redis_checkpoint import cli
from ... import get_checkpointer


class Command(BaseCommand):  # type: ignore[misc]  # Django has no type hints here
    help = "Checkpoints of a configured checkpointer: the redis-checkpoint commands (threads, history, show, ...)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--using", default="default",
                            help="the checkpointer's name in settings.REDIS_CHECKPOINT (default: default)")
        parser.add_argument("command_args", nargs=argparse.REMAINDER, metavar="COMMAND ...",
                            help="a redis-checkpoint command and its arguments, e.g. history t1 --limit 5")

    def handle(self, *args: Any, **options: Any) -> None:
        argv: List[str] = [*args, *options["command_args"]]
        using = options["using"]
        if "--using" in argv:  # given after the command: argparse left it in the remainder
            at = argv.index("--using")
            using, argv = argv[at + 1], argv[:at] + argv[at + 2:]
        if not argv:
            raise CommandError("name a command: threads, history, show, rollback, delete, prune, export, import, stats")
        code = cli.run_on(get_checkpointer(using), argv)
        if code:
            raise CommandError(f"redis-checkpoint {argv[0]} failed (exit status {code})", returncode=code)
