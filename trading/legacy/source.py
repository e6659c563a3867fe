"""The files of a legacy asirikuy-trader folder, read from disk or from an upload (files or one .zip).

The legacy layout is ``config/atrader.config`` and ``sets/<setFile>``; a flat folder (or upload) with
``atrader.config`` beside the presets works as well.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_FILES = 2000
CONFIG_NAMES = ("config/atrader.config", "atrader.config")
WANTED_SUFFIXES = (".config", ".set", ".ini")


class LegacySourceError(ValueError):
    """The folder or upload cannot be read as a legacy folder (too big, not a folder, a broken zip)."""


@dataclass
class LegacySource:
    """Files by their path inside the folder (``/``-separated), and where they came from."""

    origin: str
    files: dict[str, bytes] = field(default_factory=dict)

    def config(self) -> tuple[str, bytes] | None:
        """atrader.config: ``config/atrader.config``, else ``atrader.config``, else the one ``*.config`` there is."""
        for name in CONFIG_NAMES:
            if name in self.files:
                return name, self.files[name]
        configs = [name for name in self.files if name.endswith(".config")]
        return (configs[0], self.files[configs[0]]) if len(configs) == 1 else None

    def set_file(self, name: str) -> tuple[str, bytes] | None:
        """The preset a config names: ``sets/<name>``, ``<name>``, else a unique file of that base name."""
        clean = str(PurePosixPath(name.replace("\\", "/")))
        for candidate in (f"sets/{clean}", clean):
            if candidate in self.files:
                return candidate, self.files[candidate]
        base = PurePosixPath(clean).name
        matches = [n for n in self.files if PurePosixPath(n).name == base]
        return (matches[0], self.files[matches[0]]) if len(matches) == 1 else None


def _add(source: LegacySource, name: str, data: bytes, total: list[int]) -> None:
    if len(data) > MAX_FILE_BYTES:
        raise LegacySourceError(f"{name}: {len(data)} bytes; a legacy file is at most {MAX_FILE_BYTES}")
    total[0] += len(data)
    if total[0] > MAX_TOTAL_BYTES or len(source.files) >= MAX_FILES:
        raise LegacySourceError(f"more than {MAX_TOTAL_BYTES} bytes or {MAX_FILES} files; import the folder in parts")
    source.files[name] = data


def source_from_folder(path: Path) -> LegacySource:
    """Read the .config, .set and .ini files of a legacy folder (recursively)."""
    if not path.is_dir():
        raise LegacySourceError(f"{path} is not a folder")
    source, total = LegacySource(str(path)), [0]
    for file in sorted(path.rglob("*")):
        if file.is_file() and file.suffix.lower() in WANTED_SUFFIXES:
            _add(source, file.relative_to(path).as_posix(), file.read_bytes(), total)
    return source


def source_from_upload(files: list[tuple[str, bytes]]) -> LegacySource:
    """Uploaded files by name, or one .zip of the folder (its top folder, if it has one, is dropped)."""
    source, total = LegacySource("upload"), [0]
    if len(files) == 1 and files[0][0].lower().endswith(".zip"):
        try:
            archive = zipfile.ZipFile(io.BytesIO(files[0][1]))
            infos = [i for i in archive.infolist() if not i.is_dir()]
            for info in infos:
                if info.file_size > MAX_FILE_BYTES:
                    raise LegacySourceError(f"{info.filename}: {info.file_size} bytes; at most {MAX_FILE_BYTES}")
            names = [PurePosixPath(i.filename) for i in infos]
            tops = {n.parts[0] for n in names if len(n.parts) > 1}
            strip = len(tops) == 1 and all(len(n.parts) > 1 for n in names)
            for info, path in zip(infos, names, strict=True):
                if path.suffix.lower() in WANTED_SUFFIXES and ".." not in path.parts:
                    inner = PurePosixPath(*path.parts[1:]) if strip else path
                    _add(source, str(inner), archive.read(info), total)
        except zipfile.BadZipFile as e:
            raise LegacySourceError(f"{files[0][0]}: not a readable zip ({e})") from e
        return source
    for raw_name, data in files:
        clean = PurePosixPath(raw_name.replace("\\", "/"))
        if ".." in clean.parts:
            raise LegacySourceError(f"{raw_name}: a file name may not climb out of the folder")
        _add(source, str(clean), data, total)
    return source
