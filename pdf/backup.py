"""``flask backup DIR`` and ``flask restore DIR``: everything an instance cannot lose.

A backup directory holds

- ``database.sqlite3`` (SQLite's online backup API: a consistent copy while the app runs)
  or ``database.pgdump`` (``pg_dump --format=custom`` for PostgreSQL);
- ``archive/``: the signed PDFs (``ARCHIVE_DIR``, without the markers of unfinished runs);
- ``keys/``: the districts' signing keys and the CA (``KEYS_DIR``);
- ``secret_key``: the app's ``SECRET_KEY`` (sessions, CSRF and API tokens stay valid);
- ``instance/``: any other file of the instance directory (not the database, the queue's
  Redis files or a backup kept there), so that what a later feature keeps there comes along;
- ``manifest.json``: the SHA-256 and size of every other file, what the database is, and
  when the copy was taken.

The database is copied first and the archive after it: a file is archived before its row
says ready, so every PDF the copied database names is in the copied archive. Every file
the backup writes is 0600 and every directory 0700 (it holds the keys).

Restore checks every file against the manifest before touching anything, refuses to
overwrite an instance that holds data unless forced, then puts the database, the archive,
the keys and the secret key back. Queued work is not in the backup: publications the
restored database still shows unfinished are handed to the queue by the sweeper.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from config import private_dir, private_file, sqlite_path
from workflow.db import db

from .archive import PENDING_DIR

MANIFEST = "manifest.json"
FORMAT = 1
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
SECRET_FILE = "secret_key"
SKIPPED_NAMES = {PENDING_DIR, ".chengbao-keys.lock"}


class BackupError(RuntimeError):
    """The backup or the restore cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    directory: Path
    database: str
    files: int
    bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {"directory": str(self.directory), "database": self.database, "files": self.files,
                "bytes": self.bytes}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _files_under(root: Path) -> Iterator[Path]:
    """Every regular file below ``root``, in a stable order, without the skipped names."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and not SKIPPED_NAMES & set(path.relative_to(root).parts):
            yield path


def _copy_private(source: Path, target: Path) -> None:
    """Copy a file as 0600 into a 0700 directory tree (never with the source's mode)."""
    for parent in reversed(target.parents):
        if not parent.exists():
            private_dir(parent)
    with source.open("rb") as src, private_file(target).open("wb") as dst:
        shutil.copyfileobj(src, dst)
        dst.flush()
        os.fsync(dst.fileno())


def _database_kind(url: str) -> str:
    if sqlite_path(url) is not None:
        return "sqlite"
    if make_url(url).get_backend_name() == "postgresql":
        return "postgresql"
    raise BackupError(f"cannot back up a {make_url(url).get_backend_name()} database: SQLite or PostgreSQL only")


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL as pg_dump and pg_restore take it (no SQLAlchemy driver suffix), and the
    environment that carries its password (never on a command line others may read)."""
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    bare = URL.create(parsed.drivername, username=parsed.username, host=parsed.host, port=parsed.port,
                      database=parsed.database, query=parsed.query)
    return bare.render_as_string(hide_password=False), env


def _run(argv: list[str], env: dict[str, str]) -> None:
    tool = shutil.which(argv[0])
    if tool is None:
        raise BackupError(f"{argv[0]} is not installed (Debian: apt-get install postgresql-client)")
    done = subprocess.run([tool, *argv[1:]], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise BackupError(f"{argv[0]} failed: {done.stderr.strip()[-2000:]}")


# ---------------------------------------------------------------- backup


def backup(config: Any, directory: Path) -> Summary:
    """Copy the instance into ``directory`` (new or empty) and write its manifest."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: give a new directory for each backup")
    old_umask = os.umask(0o077)
    try:
        private_dir(directory)
        url = config["SQLALCHEMY_DATABASE_URI"]
        kind = _database_kind(url)
        if kind == "sqlite":
            _backup_sqlite(sqlite_path(url), directory / SQLITE_FILE)  # type: ignore[arg-type]
        else:
            private_file(directory / PG_FILE)
            target, env = _libpq(url)
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                  f"--file={directory / PG_FILE}", target], env)
        for name, root in (("archive", Path(config["ARCHIVE_DIR"])), ("keys", Path(config["KEYS_DIR"]))):
            private_dir(directory / name)
            if root.is_dir():
                for path in _files_under(root):
                    _copy_private(path, directory / name / path.relative_to(root))
        private_file(directory / SECRET_FILE).write_text(str(config["SECRET_KEY"]))
        instance = Path(config["INSTANCE_DIR"])
        for path in _instance_extras(config, also_skip=directory):
            _copy_private(path, directory / "instance" / path.relative_to(instance))
        files: dict[str, dict[str, Any]] = {
            str(p.relative_to(directory)): {"sha256": sha256_of(p), "bytes": p.stat().st_size}
            for p in _files_under(directory)}
        manifest = {"format": FORMAT, "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "database": kind, "files": files}
        private_file(directory / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    finally:
        os.umask(old_umask)
    return Summary(directory, kind, len(files), sum(int(f["bytes"]) for f in files.values()))


def _instance_extras(config: Any, *, also_skip: Path | None = None) -> list[Path]:
    """The instance directory's files that the other parts of a backup do not hold: not the
    database (and its -wal, -shm, -journal), the secret key, the archive, the keys, the
    embedded Redis's files (the queue is rebuilt by the sweeper) or a backup kept there."""
    instance = Path(config["INSTANCE_DIR"]).resolve()
    if not instance.is_dir():
        return []
    skipped = [Path(config["ARCHIVE_DIR"]).resolve(), Path(config["KEYS_DIR"]).resolve(), instance / "redis",
               instance / SECRET_FILE]
    if also_skip is not None:
        skipped.append(Path(also_skip).resolve())
    database = sqlite_path(config["SQLALCHEMY_DATABASE_URI"])
    if database is not None:
        skipped += [database.resolve().with_name(database.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")]
    return [path for path in _files_under(instance)
            if not any(path.resolve() == skip or skip in path.resolve().parents for skip in skipped)]


def _backup_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy, even with writers at work."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    private_file(target)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()
    target.chmod(0o600)


# ---------------------------------------------------------------- restore


def check_manifest(directory: Path) -> dict[str, Any]:
    """The manifest, once every file it lists is there with its SHA-256 and nothing else
    is; else :class:`BackupError` naming the first problems."""
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} is missing or unreadable: not a backup made by flask backup") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    listed: dict[str, dict] = manifest.get("files") or {}
    problems = []
    for name, entry in listed.items():
        file = Path(directory) / name
        if not file.is_file():
            problems.append(f"{name}: missing")
        elif sha256_of(file) != entry.get("sha256"):
            problems.append(f"{name}: SHA-256 differs from the manifest")
    present = {str(p.relative_to(directory)) for p in _files_under(Path(directory))} - {MANIFEST}
    problems += [f"{name}: not in the manifest" for name in sorted(present - set(listed))]
    if problems:
        raise BackupError("the backup does not match its manifest: " + "; ".join(problems[:10]))
    return manifest


def instance_has_data(config: Any) -> list[str]:
    """What the instance already holds (empty: nothing a restore would overwrite)."""
    held = []
    if inspect(db.engine).get_table_names():
        held.append("database tables")
    for key in ("ARCHIVE_DIR", "KEYS_DIR"):
        root = Path(config[key])
        if root.is_dir() and next(_files_under(root), None) is not None:
            held.append(f"files in {key}")
    return held


def restore(config: Any, directory: Path, *, force: bool = False) -> Summary:
    """Put a checked backup back into this instance (its database, archive and keys
    directories as configured). Refuses an instance holding data unless ``force``."""
    directory = Path(directory)
    manifest = check_manifest(directory)
    url = config["SQLALCHEMY_DATABASE_URI"]
    kind = _database_kind(url)
    if kind != manifest["database"]:
        raise BackupError(f"the backup holds a {manifest['database']} database; this instance uses {kind}")
    held = instance_has_data(config)
    if held and not force:
        raise BackupError(f"this instance is not empty ({', '.join(held)}): restore into a new instance, "
                          "or add --force to replace what it holds")
    db.session.remove()
    db.engine.dispose()
    old_umask = os.umask(0o077)
    try:
        if kind == "sqlite":
            _restore_sqlite(directory / SQLITE_FILE, sqlite_path(url))  # type: ignore[arg-type]
        else:
            target, env = _libpq(url)
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                  f"--dbname={target}", str(directory / PG_FILE)], env)
        for name, key in (("archive", "ARCHIVE_DIR"), ("keys", "KEYS_DIR")):
            _replace_tree(directory / name, Path(config[key]))
        secret = (directory / SECRET_FILE).read_text()
        instance = Path(config["INSTANCE_DIR"])
        private_dir(instance)
        private_file(instance / SECRET_FILE).write_text(secret)
        extras = directory / "instance"
        if extras.is_dir():
            for path in _files_under(extras):
                _copy_private(path, instance / path.relative_to(extras))
    finally:
        os.umask(old_umask)
    files: dict[str, dict[str, Any]] = manifest["files"]
    return Summary(directory, kind, len(files), sum(int(f["bytes"]) for f in files.values()))


def _restore_sqlite(source: Path, target: Path) -> None:
    """Write the backup into the database file through SQLite (its -wal included)."""
    if not target.parent.exists():
        private_dir(target.parent)
    private_file(target)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    target.chmod(0o600)


def _replace_tree(source: Path, target: Path) -> None:
    """``target`` becomes a 0700 copy of ``source`` (files 0600; archived PDFs 0400)."""
    if target.exists():
        shutil.rmtree(target)
    private_dir(target)
    if not source.is_dir():
        return
    for path in _files_under(source):
        copied = target / path.relative_to(source)
        _copy_private(path, copied)
        if copied.suffix == ".pdf":
            copied.chmod(0o400)
