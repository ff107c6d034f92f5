"""Small JSON state files written atomically (temp file + ``os.replace``), read back on restart."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class StateFileError(Exception):
    """The state file exists but cannot be read back; the message names the file."""


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON so a reader sees either the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as out:
        json.dump(data, out, separators=(",", ":"))
    os.replace(temporary, path)


def read_json(path: Path) -> Any | None:
    """The saved data, or None when there is no file yet; StateFileError if it is unreadable."""
    try:
        with open(path, encoding="utf-8") as source:
            return json.load(source)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise StateFileError(f"state file {path} is unreadable ({e}); move it away to start fresh") from e
