"""The process cache of parsed datasets, keyed by file, checksum and what was parsed.

A loader of :mod:`fondo.data.loaders` verifies a file's SHA-256 first, then asks
:func:`parsed` for the parsed object under the key (resolved path, SHA-256, kind of
parse). The checksum is part of the key, so a file replaced on disk is parsed again and
never served from an old entry; the file is still hashed on every call, so a file
changed after it was cached is refused before the cache is consulted. The cache is a
:class:`cachetools.LRUCache` of :data:`CACHE_MAX_ENTRIES` objects behind a
:class:`threading.Lock`; the parse itself runs outside the lock.

Examples
--------
>>> from pathlib import Path
>>> from fondo.data.cache import clear_cache, parsed
>>> parsed(Path("data/manifest.json"), "0" * 64, "demo", lambda: {"parsed": True})
{'parsed': True}
>>> clear_cache()
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cachetools import LRUCache, cached

__all__ = ["CACHE_MAX_ENTRIES", "clear_cache", "parsed"]

#: Number of parsed objects kept in the in-process cache (least recently used evicted).
CACHE_MAX_ENTRIES: int = 48

_CACHE: LRUCache[tuple[str, str, str], Any] = LRUCache(maxsize=CACHE_MAX_ENTRIES)
_CACHE_LOCK = threading.Lock()


def _key(path: Path, sha256: str, what: str, parse: Callable[[], Any]) -> tuple[str, str, str]:
    """Cache key of :func:`parsed`: the parse function is not part of it."""
    return str(Path(path).resolve()), sha256, what


@cached(_CACHE, key=_key, lock=_CACHE_LOCK)
def parsed(path: Path, sha256: str, what: str, parse: Callable[[], Any]) -> Any:
    """The object ``parse()`` returns for (path, sha256, what), parsed once per process.

    Parameters
    ----------
    path : pathlib.Path
        The file parsed (resolved for the key).
    sha256 : str
        Its verified SHA-256, lower-case hex.
    what : str
        What is made of it (``"layer"``, ``"points"``, ``"table"``, ``"dem"``,
        ``"netcdf"``): one file may be parsed in more than one way.
    parse : callable
        Called without arguments on a miss; its result is cached and returned.

    Returns
    -------
    object
        Shared by every caller: callers copy it before changing it.

    Notes
    -----
    Pass the four arguments by position: the key function receives them as given.
    """
    return parse()


def clear_cache() -> None:
    """Empty the in-process cache of parsed datasets."""
    with _CACHE_LOCK:
        _CACHE.clear()
