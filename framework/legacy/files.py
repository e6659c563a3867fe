"""The files a legacy library writes per instance in its temp folder, read for the instance page and the API.

``<id>.ui``: the strategy's user-interface values, one ``name, value`` per line (at most 20).
``<id>_heartBeat.hb``: written on every live call; line 1 the UTC hour, line 2 the time as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

MAX_UI_LINES = 20
MAX_FILE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class InstanceFiles:
    """What the library last wrote for one instance (None: no such file)."""

    ui: list[tuple[str, str]] | None
    heartbeat: str | None
    heartbeat_written_at: datetime | None


def _read(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES)
    except OSError:
        return None
    return data.decode("utf-8", errors="replace")


def parse_ui(text: str) -> list[tuple[str, str]]:
    """``name, value`` lines -> pairs (a line without a comma is a name with an empty value)."""
    pairs = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, _, value = line.partition(",")
        pairs.append((name.strip(), value.strip()))
        if len(pairs) == MAX_UI_LINES:
            break
    return pairs


def instance_files(temp: Path, instance_id: int) -> InstanceFiles:
    """Read ``<id>.ui`` and ``<id>_heartBeat.hb`` from a library's temp folder."""
    ui_text = _read(temp / f"{instance_id}.ui")
    hb_path = temp / f"{instance_id}_heartBeat.hb"
    hb_text = _read(hb_path)
    heartbeat = None
    written = None
    if hb_text is not None:
        lines = hb_text.splitlines()
        heartbeat = (lines[1] if len(lines) > 1 else lines[0] if lines else "").strip()
        try:
            written = datetime.fromtimestamp(hb_path.stat().st_mtime, tz=UTC)
        except OSError:
            written = None
    return InstanceFiles(
        ui=None if ui_text is None else parse_ui(ui_text), heartbeat=heartbeat, heartbeat_written_at=written
    )
