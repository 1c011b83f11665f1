"""`briefbot …`: parse the command line, prepare the engine once, run one command."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from adapters.cli.config import config_for
from adapters.cli.options import Handler
from adapters.cli.parser import build_parser
from bot.errors import BriefbotError, KnowledgeError
from bot.ops.prepared import prepare

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    knowledge = args.knowledge
    try:
        before_engine: Callable[[argparse.Namespace], int] | None = getattr(args, "before_engine", None)
        if before_engine is not None:  # `config show`, `health`, `db copy`: no knowledge base
            return before_engine(args)
        platform_command: str | None = getattr(args, "platform_command", None)
        if platform_command is not None:  # run, slack, discord: the optional extras
            from adapters.cli.extras import missing_extras

            missing = missing_extras(platform_command, os.environ)
            if missing is not None:
                print(f"briefbot: {missing}", file=sys.stderr)
                return 2
        # Every command that answers reads the one configuration, as `run` does: the file
        # (rejected here if it is bad, never ignored), the environment, then the flags.
        knowledge = config_for(args).knowledge_dir
    except BriefbotError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 1
    try:
        engine = prepare(knowledge, fresh=getattr(args, "validate_afresh", False))
    except KnowledgeError as exc:
        print(exc, file=sys.stderr)
        return 1
    handler: Handler = args.handler
    try:
        return handler(args, engine)
    except BriefbotError as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`briefbot ask ... | head -1`): not an error of ours. Point
        # stdout at devnull so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
