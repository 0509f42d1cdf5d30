"""Errors that tell a person exactly what was wrong and where."""

from __future__ import annotations

from pathlib import Path


class PacctoError(Exception):
    """Base class: every error the platform raises on purpose."""


class CatalogueError(PacctoError):
    """A source YAML (or another catalogue file) does not match its schema."""


class SourceFileError(PacctoError):
    """A raw file is missing, changed (sha256 mismatch) or could not be downloaded."""


class SourceDataError(PacctoError):
    """A raw file's content is not what its tidy function expects.

    `row` is the 1-based line (CSV) or row (sheet) number a person sees when opening the file.
    """

    def __init__(
        self,
        file: str | Path,
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
        expected: str | None = None,
        sheet: str | None = None,
    ):
        self.file = str(file)
        self.sheet, self.row, self.column, self.value = sheet, row, column, value
        self.problem, self.expected = problem, expected
        where = [Path(self.file).name]
        if sheet is not None:
            where.append(f"sheet {sheet!r}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        message = f"{', '.join(where)}: {problem}"
        if value is not None:
            message += f" (value {value!r})"
        if expected:
            message += f"; expected {expected}"
        super().__init__(message)


class UnknownCountryError(PacctoError):
    """A country name or code that the resolver cannot map to ISO3."""

    def __init__(self, value: object):
        self.value = value
        super().__init__(
            f"cannot resolve country {value!r} to ISO3: not an ISO3/ISO2/M49 code, not a name "
            "known to the M49 reference or pycountry, and not in "
            "assets/country_overrides.yaml (add a reviewed entry there)"
        )


class PublicationError(PacctoError):
    """A package spec is wrong, or its data cannot be published as declared."""


class LicenceError(PublicationError):
    """A column derives from a source whose licence does not allow redistribution."""


class PackageInvalidError(PublicationError):
    """A written package does not validate; nothing was released."""


class LockBusyError(PacctoError):
    """Another process holds the lock of a data directory (paccto_data/lock.py) past the wait
    allowed; names the lock file and its holder (pid, command, since when)."""

    def __init__(self, path: str | Path, holder: str, waited: float):
        self.path, self.holder, self.waited = str(path), holder, waited
        super().__init__(f"{path} is held by {holder}; gave up after {waited:g} s "
                         "(PACCTO_LOCK_TIMEOUT); try again when it has finished")
