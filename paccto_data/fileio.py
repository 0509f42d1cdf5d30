"""File operations shared by the acquisition, the readers, the releases and the refresh:
durable directory entries, the one sha256 of a file, and the one way a text file is
decoded."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import yaml

from paccto_data.errors import SourceDataError


def fsync_dir(directory: Path) -> None:
    """Flush a directory's entries to disk, so a rename into it survives a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# A UTF-8 byte-order mark, or the lone 0xFF a re-encoding left of one (the bundled
# wb_population bulk CSV starts that way); neither is ever part of the data.
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xff")


def decode_text(path: Path) -> str:
    """The UTF-8 text of a file, a leading byte-order mark dropped; anything else raises
    naming the line."""
    data = path.read_bytes()
    for bom in _BOMS:
        if data.startswith(bom):
            data = data[len(bom):]
            break
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceDataError(path, "not UTF-8 text", row=line, value=data[exc.start:exc.start + 8],
                              expected="a UTF-8 CSV") from exc


# libyaml's parser where PyYAML was built with it (the wheels are): the same documents as
# yaml.safe_load, about fifteen times faster on the project's YAML files.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str):
    """A YAML document, parsed as `yaml.safe_load` would."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 (a safe loader)


def read_yaml(path: Path):
    """The YAML document in the UTF-8 file at `path`, parsed as `yaml.safe_load` would."""
    return parse_yaml(Path(path).read_text(encoding="utf-8"))
