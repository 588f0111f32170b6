"""Compilation of the finance engine's sequential kernels (numba), cached when possible.

The year loops of the engine (tax losses, debt sizing, the waterfall, IRR root finding)
are sequential by nature; they run compiled, over a leading draws axis. Compiled code
is cached on disk so a new process does not pay the compilation again, but a cache
that cannot be written (read-only install, no ``NUMBA_CACHE_DIR`` in CI, a sandbox)
must never break the engine: numba then raises ``RuntimeError`` when the kernel is
decorated, and :func:`njit_cached` compiles the kernel in memory instead.
"""

from __future__ import annotations

import numba

__all__ = ["njit_cached"]


def njit_cached(function):
    """``numba.njit(cache=True)``, falling back to an in-memory compile.

    Kernels use numpy's floating-point error model (a division by zero gives an
    infinity or NaN that the kernel tests for, not an exception).

    Parameters
    ----------
    function : callable
        A numba-compilable Python function.

    Returns
    -------
    numba.core.registry.CPUDispatcher
        The compiled dispatcher; it caches to disk only when numba found a writable
        cache directory (next to the module, or ``NUMBA_CACHE_DIR``, or the user's
        cache directory).
    """
    try:
        return numba.njit(cache=True, error_model="numpy")(function)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(cache=False, error_model="numpy")(function)
