"""Logging and thread settings for the scripts Snakemake runs (one log file per rule and frame)."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def rule_logging(smk: Any) -> Iterator[logging.Logger]:
    """Send log records of the ``sar4tec`` loggers to the rule's log file, and set the threads.

    Parameters
    ----------
    smk : snakemake.script.Snakemake
        The ``snakemake`` object of a rule's script; its first ``log`` entry receives the log,
        its ``threads`` caps numba's parallel threads.

    Yields
    ------
    logging.Logger
        The ``sar4tec`` logger.  An exception raised inside the block is logged with its
        traceback before it propagates, so the rule's log says why it failed.
    """
    logger = logging.getLogger("sar4tec")
    logger.setLevel(logging.INFO)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if smk.log:
        handlers.append(logging.FileHandler(str(smk.log[0]), mode="w"))
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    logging.captureWarnings(True)
    set_threads(int(smk.threads))
    start = time.perf_counter()
    rule = getattr(smk, "rule", "rule")
    logger.info(
        "%s started with %d thread(s), wildcards %s, host %s, SLURM job %s",
        rule, smk.threads, dict(smk.wildcards), socket.gethostname(),
        os.environ.get("SLURM_JOB_ID", "none"),
    )  # fmt: skip
    try:
        yield logger
    except BaseException:
        logger.exception("%s failed", rule)
        raise
    finally:
        logger.info("%s finished in %.1f s", rule, time.perf_counter() - start)
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()


#: environment variables that size the BLAS/OpenMP thread pools of processes a rule starts
#: (e.g. SNAPHU); this process is capped at run time instead.  NUMBA_NUM_THREADS is not among
#: them: numba refuses to compile once its threads run if the variable has changed.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def set_threads(threads: int) -> None:
    """Give a rule's ``threads`` to numba, BLAS/OpenMP and the processes the rule starts.

    numba's parallel threads are capped at ``threads`` (no more than numba was started with),
    the BLAS/OpenMP pools already loaded are limited with ``threadpoolctl``, and
    :data:`THREAD_VARIABLES` are set for child processes.
    """
    import numba
    import threadpoolctl

    threads = max(1, int(threads))
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    threadpoolctl.threadpool_limits(limits=threads)
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
