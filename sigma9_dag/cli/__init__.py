"""The ``sigma9`` command line.

One module per command group (``spec``, ``schema``, ...), each with a ``register(subparsers)``
that adds its parser and sets ``handler``. Errors the project raises on purpose
(:class:`~sigma9_runtime.errors.Sigma9Error`) print as one line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sigma9_dag.cli import backtest, features, lab, lake, replay, schema, spec
from sigma9_dag.cli.compute import dask_scope
from sigma9_runtime import __version__
from sigma9_runtime.errors import Sigma9Error

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

COMMAND_GROUPS = (spec, schema, lake, features, lab, backtest, replay)


def build_parser() -> argparse.ArgumentParser:
    """The full ``sigma9`` parser."""
    parser = argparse.ArgumentParser(
        prog="sigma9",
        description="Sigma9 Lab: contracts, market data lake, features, lab pipeline, backtests and replay.",
    )
    parser.add_argument("--version", action="version", version=f"sigma9 {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sigma9`` with ``argv``; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        with dask_scope(getattr(args, "dask", None)):
            return int(args.handler(args))
    except Sigma9Error as e:
        print(f"sigma9: error: {e}{_task_notes(e)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:  # a path given on the command line that cannot be read or written
        print(f"sigma9: error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("sigma9: interrupted", file=sys.stderr)
        return 130


def _task_notes(error: BaseException) -> str:
    """Where per-ticker work failed (the notes :mod:`sigma9_dag.parallel` adds), as a suffix of the one line."""
    notes = [n for n in getattr(error, "__notes__", ()) if n.startswith("in ")]
    return f" ({'; '.join(notes)})" if notes else ""


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
