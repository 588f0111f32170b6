"""Checking bundled files against the manifest: present, and of the SHA-256 it lists.

A truncated download, a bad merge or an edited file is reported (:func:`check_datasets`)
or stops the caller with a :class:`~fondo.data.manifest.DatasetError` naming the file
and both checksums (:func:`verify_dataset`, :func:`dataset_path`), instead of flowing
silently into a screening run or a yield study. The loaders of :mod:`fondo.data.loaders`
verify every file this way before reading it.

Examples
--------
>>> from fondo.data.manifest import DEFAULT_DATA_DIR
>>> from fondo.data.verification import check_datasets
>>> bad = [s for s in check_datasets(DEFAULT_DATA_DIR) if s.status != "ok"]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fondo.data.manifest import (
    DEFAULT_DATA_DIR,
    Dataset,
    DatasetError,
    file_sha256,
    load_manifest,
    manifest_path,
)

__all__ = [
    "DatasetState",
    "DatasetStatus",
    "check_datasets",
    "dataset_path",
    "dataset_status",
    "find_datasets",
    "verify_dataset",
]

DatasetState = Literal["ok", "missing", "corrupted"]


@dataclass(frozen=True)
class DatasetStatus:
    """Result of checking one dataset against the manifest.

    Parameters
    ----------
    dataset : Dataset
        The manifest entry.
    path : pathlib.Path
        Where the file was looked for.
    status : {"ok", "missing", "corrupted"}
        ``corrupted`` means the file exists but its SHA-256 differs from the manifest.
    expected_sha256 : str
        Checksum from the manifest.
    actual_sha256 : str or None
        Checksum of the file on disk, None when missing.
    actual_bytes : int or None
        Size of the file on disk, None when missing. [bytes]
    """

    dataset: Dataset
    path: Path
    status: DatasetState
    expected_sha256: str
    actual_sha256: str | None
    actual_bytes: int | None

    @property
    def ok(self) -> bool:
        """True when the file is present and its checksum matches."""
        return self.status == "ok"

    def message(self) -> str:
        """One line for a report, naming the file and, when corrupted, both checksums."""
        if self.status == "ok":
            return f"ok         {self.dataset.file}"
        if self.status == "missing":
            return f"missing    {self.dataset.file} (expected at {self.path})"
        return (
            f"corrupted  {self.dataset.file}: sha256 {self.actual_sha256} "
            f"({self.actual_bytes} bytes), manifest expects {self.expected_sha256} "
            f"({self.dataset.bytes} bytes)"
        )


# --------------------------------------------------------------------------- checking


def dataset_status(dataset: Dataset, data_dir: Path | str) -> DatasetStatus:
    """Check one dataset: present under ``data_dir`` and SHA-256 as expected."""
    data_dir = Path(data_dir)
    path = dataset.path(data_dir)
    if not path.is_file():
        return DatasetStatus(dataset, path, "missing", dataset.sha256, None, None)
    actual = file_sha256(path)
    state: DatasetState = "ok" if actual == dataset.sha256 else "corrupted"
    return DatasetStatus(dataset, path, state, dataset.sha256, actual, path.stat().st_size)


def check_datasets(data_dir: Path | str = DEFAULT_DATA_DIR) -> list[DatasetStatus]:
    """Check every dataset of the manifest: present, and SHA-256 as listed.

    Parameters
    ----------
    data_dir : path-like
        The data directory.

    Returns
    -------
    list of DatasetStatus
        One per manifest entry, in manifest order.

    Raises
    ------
    DatasetError
        When the manifest itself is missing or malformed.
    """
    data_dir = Path(data_dir)
    return [dataset_status(dataset, data_dir) for dataset in load_manifest(data_dir)]


def _raise_unless_ok(status: DatasetStatus) -> None:
    if status.status == "missing":
        raise DatasetError(
            f"dataset '{status.dataset.id}' is missing: {status.path} not found", status.path
        )
    if status.status == "corrupted":
        raise DatasetError(
            f"dataset '{status.dataset.id}' is corrupted: {status.path} has sha256 "
            f"{status.actual_sha256}, manifest expects {status.expected_sha256}",
            status.path,
        )


def find_datasets(datasets: list[Dataset], id_or_layer: str, data_dir: Path) -> list[Dataset]:
    """The dataset of id ``id_or_layer``, else every dataset of that layer name.

    Parameters
    ----------
    datasets : list of Dataset
        The manifest (:func:`~fondo.data.manifest.load_manifest`).
    id_or_layer : str
        A dataset id (``"weather_agu_765710"``) or a layer name (``"wrf_wind_80m"``).
    data_dir : pathlib.Path
        The data directory, named in the error.

    Returns
    -------
    list of Dataset
        One dataset for an id, one or more for a layer, in manifest order.

    Raises
    ------
    DatasetError
        When no dataset has that id or layer; the message lists the known names.
    """
    by_id = [dataset for dataset in datasets if dataset.id == id_or_layer]
    if by_id:
        return by_id
    by_layer = [dataset for dataset in datasets if dataset.layer == id_or_layer]
    if not by_layer:
        known = sorted({d.layer for d in datasets if d.layer} | {d.id for d in datasets})
        raise DatasetError(
            f"no dataset or layer named '{id_or_layer}' in {manifest_path(data_dir)}; "
            f"known: {', '.join(known)}"
        )
    return by_layer


def verify_dataset(dataset: Dataset, data_dir: Path | str) -> str:
    """Verify one dataset and return its actual (= expected) checksum.

    Raises
    ------
    DatasetError
        When the file is missing or its SHA-256 differs from the manifest's.
    """
    status = dataset_status(dataset, data_dir)
    _raise_unless_ok(status)
    return dataset.sha256


def dataset_path(
    data_dir: Path | str, id_or_layer: str, verify: bool = True
) -> Path:
    """Path of one bundled dataset, verified against the manifest.

    Parameters
    ----------
    data_dir : path-like
        The data directory.
    id_or_layer : str
        A dataset id (``"weather_agu_765710"``) or a layer name held by exactly one file
        (``"states"``).
    verify : bool, default True
        Check presence and SHA-256 before returning.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DatasetError
        Unknown name, a layer of several files, a missing file or a corrupted file (the
        message names the file and both checksums).
    """
    data_dir = Path(data_dir)
    matches = find_datasets(load_manifest(data_dir), id_or_layer, data_dir)
    if len(matches) > 1:
        raise DatasetError(
            f"layer '{id_or_layer}' has {len(matches)} files; ask for one of the ids "
            f"{', '.join(d.id for d in matches)}"
        )
    dataset = matches[0]
    if verify:
        verify_dataset(dataset, data_dir)
    return dataset.path(data_dir)
