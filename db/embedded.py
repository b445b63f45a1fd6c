"""The embedded PostgreSQL used when DATABASE_URL is not set (real binaries from pgserver)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

_servers: dict[Path, Any] = {}


def start_embedded(data_dir: Path, *, cleanup: bool = False) -> str:
    """Start (or join) the embedded server whose data lives in `data_dir`; return its URL.

    Several processes may share one data directory: pgserver counts its users and
    stops the server when the last one exits (`cleanup` also deletes the data).
    """
    data_dir = data_dir.resolve()
    if data_dir not in _servers:
        data_dir.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir.parent))
        logging.getLogger("pgserver").setLevel(logging.WARNING)
        from pgserver.postgres_server import get_server  # heavy import, only needed here

        _servers[data_dir] = get_server(data_dir, cleanup_mode="delete" if cleanup else "stop")
    return str(_servers[data_dir].get_uri())
