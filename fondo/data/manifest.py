"""The manifest of the bundled real data: what each file is, where it comes from, its checksum.

Every file Fondo ships under ``data/`` is listed in ``data/manifest.json`` with what it
is, where it comes from, its licence, its size and its SHA-256 checksum. This module reads
and validates that manifest into :class:`Dataset` records, hashes files
(:func:`file_sha256`), lists files the manifest lacks (:func:`unlisted_files`) and
rebuilds the manifest from the files on disk (:func:`build_manifest`,
:func:`refresh_manifest`). Checking files against it is :mod:`fondo.data.verification`;
reading them is :mod:`fondo.data.loaders`.

Examples
--------
>>> from fondo.data.manifest import DEFAULT_DATA_DIR, load_manifest, unlisted_files
>>> datasets = load_manifest(DEFAULT_DATA_DIR)
>>> unlisted_files(DEFAULT_DATA_DIR)
[]
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

__all__ = [
    "DATASET_KINDS",
    "DEFAULT_DATA_DIR",
    "EXCLUDED_FROM_MANIFEST",
    "MANIFEST_FILENAME",
    "MANIFEST_VERSION",
    "Dataset",
    "DatasetError",
    "build_manifest",
    "file_sha256",
    "load_manifest",
    "manifest_path",
    "refresh_manifest",
    "unlisted_files",
]

#: The repository's bundled data directory (``<repo>/data``).
DEFAULT_DATA_DIR: Path = Path(__file__).resolve().parents[2] / "data"

#: Name of the manifest file inside the data directory.
MANIFEST_FILENAME: str = "manifest.json"

#: Version of the manifest schema this module reads and writes.
MANIFEST_VERSION: int = 1

#: Glob patterns (relative to the data directory) of files that are documentation of
#: the bundle, not datasets, and are therefore not listed in the manifest.
EXCLUDED_FROM_MANIFEST: tuple[str, ...] = (MANIFEST_FILENAME, "README.md", "SOURCES-*.md")

#: Allowed values of a manifest entry's ``kind``.
DATASET_KINDS: frozenset[str] = frozenset(
    {
        "weather",
        "boundary",
        "grid",
        "protected_areas",
        "localities",
        "indigenous",
        "water",
        "dem",
        "power_plants",
        "resource",
    }
)

#: Entry keys of a manifest dataset, in the order they are written.
_ENTRY_KEYS: tuple[str, ...] = (
    "id",
    "file",
    "kind",
    "layer",
    "description",
    "source",
    "original_provider",
    "licence",
    "attribution",
    "sha256",
    "bytes",
)

#: Entry keys that must be non-empty text in every manifest entry.
_REQUIRED_TEXT_KEYS: tuple[str, ...] = (
    "id",
    "file",
    "kind",
    "description",
    "source",
    "original_provider",
    "licence",
    "attribution",
)

#: Chunk size for streaming checksums. [bytes]
_HASH_CHUNK_BYTES: int = 1 << 20

#: Permission bits of a manifest written where none existed (rw-r--r--).
_NEW_FILE_MODE: int = 0o644

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_\-.]*$")


class DatasetError(ValueError):
    """A bundled or imported dataset is missing, corrupted, unknown or malformed.

    Attributes
    ----------
    path : pathlib.Path or None
        The file concerned, when there is one.
    """

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class Dataset:
    """One file of the bundle, as listed in ``data/manifest.json``.

    Parameters
    ----------
    id : str
        Stable identifier, e.g. ``"states_inegi"`` or ``"weather_agu_765710"``.
    file : str
        Path relative to the data directory, POSIX separators.
    kind : str
        One of :data:`DATASET_KINDS`.
    layer : str or None
        Layer name for geo and resource layers (e.g. ``"states"``), None for weather files.
    description, source, original_provider, licence, attribution : str
        Provenance carried from ``data/SOURCES-*.md``.
    sha256 : str
        Expected SHA-256 of the file, lower-case hex.
    bytes : int
        Expected size of the file. [bytes]
    """

    id: str
    file: str
    kind: str
    layer: str | None
    description: str
    source: str
    original_provider: str
    licence: str
    attribution: str
    sha256: str
    bytes: int

    def path(self, data_dir: Path | str) -> Path:
        """Absolute path of the file under ``data_dir``."""
        return Path(data_dir) / self.file


# --------------------------------------------------------------------------- checksums


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file, streamed.

    Parameters
    ----------
    path : path-like
        File to hash.

    Returns
    -------
    str
        Lower-case hexadecimal digest (64 characters).
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- manifest


def manifest_path(data_dir: Path | str) -> Path:
    """Path of the manifest file inside ``data_dir``."""
    return Path(data_dir) / MANIFEST_FILENAME


def _read_manifest_json(data_dir: Path | str) -> dict[str, Any]:
    path = manifest_path(data_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"manifest not found: {path}", path) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"manifest {path} is not valid JSON: {exc}", path) from None
    if not isinstance(document, dict):
        raise DatasetError(f"manifest {path} must be a JSON object", path)
    return document


def _dataset_from_entry(entry: Any, index: int, path: Path) -> Dataset:
    where = f"manifest {path}, datasets[{index}]"
    if not isinstance(entry, dict):
        raise DatasetError(f"{where} must be an object", path)
    unknown = sorted(set(entry) - set(_ENTRY_KEYS))
    if unknown:
        raise DatasetError(f"{where} has unknown keys {unknown}", path)
    for key in _REQUIRED_TEXT_KEYS:
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            name = entry.get("file", entry.get("id", "?"))
            raise DatasetError(f"{where} ({name}) needs a non-empty text '{key}'", path)
    file = entry["file"]
    if file.startswith("/") or "\\" in file or ".." in Path(file).parts:
        raise DatasetError(f"{where}: file '{file}' must be relative to the data directory", path)
    if not _ID_RE.match(entry["id"]):
        raise DatasetError(f"{where}: id '{entry['id']}' must match {_ID_RE.pattern}", path)
    if entry["kind"] not in DATASET_KINDS:
        raise DatasetError(
            f"{where} ({file}): kind '{entry['kind']}' is not one of {sorted(DATASET_KINDS)}", path
        )
    layer = entry.get("layer")
    if layer is not None and (not isinstance(layer, str) or not _ID_RE.match(layer)):
        raise DatasetError(f"{where} ({file}): layer must be null or a lower-case name", path)
    sha256 = entry.get("sha256")
    if not isinstance(sha256, str) or not _SHA256_RE.match(sha256):
        raise DatasetError(f"{where} ({file}): sha256 must be 64 lower-case hex digits", path)
    size = entry.get("bytes")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise DatasetError(f"{where} ({file}): bytes must be a non-negative integer", path)
    return Dataset(
        id=entry["id"],
        file=file,
        kind=entry["kind"],
        layer=layer,
        description=entry["description"],
        source=entry["source"],
        original_provider=entry["original_provider"],
        licence=entry["licence"],
        attribution=entry["attribution"],
        sha256=sha256,
        bytes=size,
    )


def load_manifest(data_dir: Path | str = DEFAULT_DATA_DIR) -> list[Dataset]:
    """Read and validate ``data_dir/manifest.json``.

    Parameters
    ----------
    data_dir : path-like
        The data directory.

    Returns
    -------
    list of Dataset
        In manifest order.

    Raises
    ------
    DatasetError
        When the manifest is missing, not JSON, of another version, or an entry lacks a
        field, has a malformed checksum, or repeats an id or a file.
    """
    path = manifest_path(data_dir)
    document = _read_manifest_json(data_dir)
    if document.get("version") != MANIFEST_VERSION:
        raise DatasetError(
            f"manifest {path} has version {document.get('version')!r}, "
            f"this code reads version {MANIFEST_VERSION}",
            path,
        )
    entries = document.get("datasets")
    if not isinstance(entries, list):
        raise DatasetError(f"manifest {path} needs a 'datasets' list", path)
    datasets = [_dataset_from_entry(entry, i, path) for i, entry in enumerate(entries)]
    for attribute in ("id", "file"):
        seen: set[str] = set()
        for dataset in datasets:
            value = getattr(dataset, attribute)
            if value in seen:
                raise DatasetError(f"manifest {path} lists {attribute} '{value}' twice", path)
            seen.add(value)
    return datasets


def _is_excluded(relative: str) -> bool:
    """True for the bundle's top-level documentation files (never listed)."""
    return "/" not in relative and any(fnmatch(relative, pattern) for pattern in EXCLUDED_FROM_MANIFEST)


def _files_on_disk(data_dir: Path) -> list[str]:
    files = []
    for path in data_dir.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(data_dir).as_posix()
        if _is_excluded(relative) or any(part.startswith(".") for part in Path(relative).parts):
            continue
        files.append(relative)
    return sorted(files)


def unlisted_files(data_dir: Path | str = DEFAULT_DATA_DIR) -> list[str]:
    """Files under ``data_dir`` that the manifest does not list.

    Parameters
    ----------
    data_dir : path-like
        The data directory.

    Returns
    -------
    list of str
        Paths relative to ``data_dir`` (documentation files and hidden files excluded).
    """
    listed = {dataset.file for dataset in load_manifest(data_dir)}
    return [file for file in _files_on_disk(Path(data_dir)) if file not in listed]


def _skeleton_id(relative: str) -> str:
    stem = Path(relative).name.split(".")[0]
    return re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_") or "dataset"


def build_manifest(data_dir: Path | str = DEFAULT_DATA_DIR) -> dict[str, Any]:
    """Build the manifest document from the files on disk.

    Hand-written fields (id, kind, layer, description, source, original_provider,
    licence, attribution) of files already in the existing manifest are preserved;
    ``sha256`` and ``bytes`` are recomputed; entries whose file is gone are dropped; new
    files get a skeleton entry with empty provenance, which :func:`load_manifest` rejects
    until someone fills it in from the SOURCES files.

    Parameters
    ----------
    data_dir : path-like
        The data directory.

    Returns
    -------
    dict
        ``{"version": 1, "datasets": [...]}``, entries sorted by file.
    """
    data_dir = Path(data_dir)
    previous: dict[str, dict[str, Any]] = {}
    if manifest_path(data_dir).exists():
        for entry in _read_manifest_json(data_dir).get("datasets", []):
            if isinstance(entry, dict) and isinstance(entry.get("file"), str):
                previous[entry["file"]] = entry
    datasets = []
    for relative in _files_on_disk(data_dir):
        old = previous.get(relative, {})
        entry: dict[str, Any] = {
            "id": old.get("id", _skeleton_id(relative)),
            "file": relative,
            "kind": old.get("kind", ""),
            "layer": old.get("layer"),
            "description": old.get("description", ""),
            "source": old.get("source", ""),
            "original_provider": old.get("original_provider", ""),
            "licence": old.get("licence", ""),
            "attribution": old.get("attribution", ""),
            "sha256": file_sha256(data_dir / relative),
            "bytes": (data_dir / relative).stat().st_size,
        }
        datasets.append(entry)
    return {"version": MANIFEST_VERSION, "datasets": datasets}


def _atomic_write_text(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        # mkstemp creates 0600; keep the mode of the file replaced, else rw-r--r--.
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else _NEW_FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def refresh_manifest(data_dir: Path | str = DEFAULT_DATA_DIR) -> Path:
    """Rebuild ``data_dir/manifest.json`` with :func:`build_manifest` and write it atomically.

    Parameters
    ----------
    data_dir : path-like
        The data directory.

    Returns
    -------
    pathlib.Path
        The manifest written.
    """
    document = build_manifest(data_dir)
    path = manifest_path(data_dir)
    _atomic_write_text(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return path
