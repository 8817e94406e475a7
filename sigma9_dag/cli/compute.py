"""The ``--dask ADDRESS`` option of the commands that spread per-ticker work (:mod:`sigma9_dag.parallel`)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager

from sigma9_dag.parallel import DASK_ADDRESS_VARIABLE


def add_dask_option(parser: argparse.ArgumentParser) -> None:
    """``--dask tcp://HOST:PORT``: run the command's per-ticker work on that Dask scheduler's workers."""
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        default=None,
        help=f"run the per-ticker work on the workers of the Dask scheduler at ADDRESS (tcp://HOST:PORT) instead of "
        f"local processes; sets ${DASK_ADDRESS_VARIABLE} for the command (default: that variable, else local)",
    )


@contextmanager
def dask_scope(address: str | None) -> Iterator[None]:
    """``$SIGMA9_DASK_ADDRESS`` set to ``address`` inside the block (unchanged when None), restored after."""
    if not address:
        yield
        return
    before = os.environ.get(DASK_ADDRESS_VARIABLE)
    os.environ[DASK_ADDRESS_VARIABLE] = address
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(DASK_ADDRESS_VARIABLE, None)
        else:
            os.environ[DASK_ADDRESS_VARIABLE] = before
