"""Signed checkpoints of the audit chains, kept outside the database they vouch for.

A checkpoint is a JSON file — the head of the global chain of report events and of the
admin audit chain (sequence number and hash), the row counts of the audited tables, the time
and the previous checkpoint's SHA-256 — with a detached signature beside it, made with a
district's signing key (the first signing unit that has one: ``KEYS_DIR/district-<id>.p12``).
Files are ``AUDIT_CHECKPOINT_DIR/checkpoint-<n>.json`` and ``….json.sig`` (default
``instance/audit-checkpoints``), created 0600 in a 0700 directory, never rewritten.

Whoever rewrites the database's events and recomputes every hash with the application's own
functions cannot re-sign the checkpoints: :func:`verify_checkpoints` finds that a chain no
longer has, at a checkpoint's sequence number, the hash the signature vouches for. Deleting
a checkpoint breaks the chain of checkpoints (each names its predecessor's hash); copying
the directory off the machine (``rsync``) protects the last one too.

Written by ``flask audit-checkpoint`` and by the sweep (``flask sweep``, the worker's start,
``make run`` every few minutes) whenever a chain moved since the last checkpoint.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workflow import audit
from workflow.models import OrgUnit
from workflow.publishing import signing_units

if TYPE_CHECKING:  # cryptography (≈8 MB of a process) is imported where a checkpoint is signed or checked
    from cryptography import x509

FORMAT = "chengbao-audit-checkpoint/1"
DIR_NAME = "audit-checkpoints"
NAME_RE = re.compile(r"^checkpoint-(\d{6,})\.json$")


class CheckpointKeyMissing(Exception):
    """No signing unit has a key yet (``flask dev-keys``, or install a district's PKCS#12)."""


def checkpoint_dir(config: Any) -> Path:
    """Where the checkpoints live: ``AUDIT_CHECKPOINT_DIR``, else ``INSTANCE_DIR/audit-checkpoints``."""
    return Path(config.get("AUDIT_CHECKPOINT_DIR") or Path(config["INSTANCE_DIR"]) / DIR_NAME)


def _signing_key(config: Any) -> tuple[OrgUnit, Any, x509.Certificate]:
    """The key and certificate of the first signing unit (by id) that has a PKCS#12."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    from .jobs import signing_key_path

    passphrase = config.get("SIGNING_P12_PASSPHRASE")
    for unit in signing_units():
        path = signing_key_path(config, unit.id)
        if path.is_file():
            key, cert, _ = pkcs12.load_key_and_certificates(
                path.read_bytes(), passphrase.encode() if isinstance(passphrase, str) else passphrase)
            if key is not None and cert is not None:
                return unit, key, cert
    raise CheckpointKeyMissing("no district signing key: run `flask dev-keys` or install a district's PKCS#12")


def _sign(key: Any, data: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    raise CheckpointKeyMissing(f"unsupported signing key type {type(key).__name__}")


def _signature_holds(cert: x509.Certificate, signature: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    public = cert.public_key()
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One writer at a time across processes (two sweeps at once write one checkpoint)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(directory / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_new(path: Path, data: bytes) -> None:
    """Create ``path`` (0600, never over an existing file) with ``data``, synced to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def checkpoint_files(directory: Path) -> list[tuple[int, Path]]:
    """The checkpoints in ``directory`` by number."""
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := NAME_RE.match(p.name))]
    return sorted(found)


def _state_now() -> dict[str, Any]:
    return {"chains": audit.heads(), "counts": audit.counts()}


def write_checkpoint(config: Any, *, only_if_moved: bool = False) -> Path | None:
    """Sign the chains' heads now into the next checkpoint file; returns its path. With
    ``only_if_moved``, writes nothing (None) when no chain moved since the last checkpoint.
    Needs an app context; raises :class:`CheckpointKeyMissing` when no district has a key."""
    directory = checkpoint_dir(config)
    with _locked(directory):
        existing = checkpoint_files(directory)
        previous = None
        state = _state_now()
        if existing:
            number, last_path = existing[-1]
            last_bytes = last_path.read_bytes()
            if only_if_moved and json.loads(last_bytes).get("chains") == state["chains"]:
                return None
            previous = {"number": number, "sha256": hashlib.sha256(last_bytes).hexdigest()}
        from cryptography.hazmat.primitives import serialization

        unit, key, cert = _signing_key(config)
        number = existing[-1][0] + 1 if existing else 1
        body = {
            "format": FORMAT, "number": number,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            **state, "previous": previous,
            "signer": {"district_id": unit.id, "district": unit.name,
                       "certificate": cert.public_bytes(serialization.Encoding.PEM).decode()},
        }
        data = json.dumps(body, ensure_ascii=False, sort_keys=True, indent=1).encode()
        path = directory / f"checkpoint-{number:06d}.json"
        _write_new(path.with_name(path.name + ".sig"), _sign(key, data))
        _write_new(path, data)
        return path


# ---------------------------------------------------------------- checking


@dataclass
class CheckpointProblem:
    file: str
    message: str

    def __str__(self) -> str:
        return f"checkpoint {self.file}: {self.message}"


def _trusted(cert: x509.Certificate, roots: list[x509.Certificate]) -> bool:
    from cryptography.exceptions import InvalidSignature

    for root in roots:
        try:
            cert.verify_directly_issued_by(root)
            return True
        except (ValueError, TypeError, InvalidSignature):
            continue
    return False


def _roots(config: Any) -> list[x509.Certificate]:
    from cryptography import x509

    from .verify import trust_roots

    certs = []
    for path in trust_roots(config["KEYS_DIR"]):
        data = path.read_bytes()
        try:
            certs += x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data \
                else [x509.load_der_x509_certificate(data)]
        except ValueError:
            continue
    return certs


def _check_one(path: Path, roots: list[x509.Certificate]) -> tuple[dict[str, Any] | None, list[str]]:
    """The checkpoint's body once its signature holds (else None), and what is wrong with it."""
    from cryptography import x509

    sig_path = path.with_name(path.name + ".sig")
    data = path.read_bytes()
    if not sig_path.is_file():
        return None, ["its signature file is missing"]
    try:
        body = json.loads(data)
        cert = x509.load_pem_x509_certificate(body["signer"]["certificate"].encode())
    except (ValueError, KeyError, TypeError):
        return None, ["not a readable checkpoint"]
    if not _signature_holds(cert, sig_path.read_bytes(), data):
        return None, ["the signature does not match the file: altered"]
    if not _trusted(cert, roots):
        return None, ["signed by a certificate that does not chain to this site's trust roots"]
    return body, []


def _check_against_database(body: dict[str, Any]) -> list[str]:
    """The chains must still have, at the checkpoint's sequence numbers, the signed hashes."""
    problems = []
    for chain, head in (body.get("chains") or {}).items():
        if chain not in (audit.GLOBAL_CHAIN, audit.ADMIN_CHAIN):
            continue
        seq, signed = int(head["seq"]), head["hash"]
        now = audit.link_at(chain, seq)
        label = "global event" if chain == audit.GLOBAL_CHAIN else "admin audit"
        if now is None:
            problems.append(f"{label} seq {seq} is gone (deleted) but was signed with hash {signed[:16]}…")
        elif now != signed:
            problems.append(f"{label} seq {seq} now hashes to {now[:16]}…, signed {signed[:16]}…: "
                            "the chain up to it was rewritten")
    return problems


def verify_checkpoints(config: Any) -> tuple[int, list[CheckpointProblem]]:
    """Check every checkpoint: its signature and certificate, the chain of checkpoints (no
    number missing, each naming its predecessor's hash), and that the database's chains still
    hold the signed heads. Returns (checkpoints checked, problems). Needs an app context."""
    files = checkpoint_files(checkpoint_dir(config))
    roots = _roots(config)
    problems: list[CheckpointProblem] = []
    expected, previous_sha = 1, None
    for number, path in files:
        if number != expected:
            missing = f"checkpoint {expected}" if number - 1 == expected else f"checkpoints {expected}–{number - 1}"
            problems.append(CheckpointProblem(path.name, f"{missing} missing before it (deleted)"))
        body, wrong = _check_one(path, roots)
        problems += [CheckpointProblem(path.name, m) for m in wrong]
        if body is not None:
            named = (body.get("previous") or {}).get("sha256")
            if previous_sha is not None and named != previous_sha:
                problems.append(CheckpointProblem(path.name, "does not name the previous checkpoint's hash"))
            problems += [CheckpointProblem(path.name, m) for m in _check_against_database(body)]
        expected, previous_sha = number + 1, hashlib.sha256(path.read_bytes()).hexdigest()
    return len(files), problems


def checkpoint_sweeper(config: Any):
    """A sweeper (``app.extensions["chengbao_sweepers"]``): a checkpoint when a chain moved."""
    def sweep() -> dict[str, Any]:
        try:
            path = write_checkpoint(config, only_if_moved=True)
        except CheckpointKeyMissing as exc:
            return {"audit_checkpoint": {"skipped": str(exc)}}
        return {"audit_checkpoint": {"written": path.name if path else None}}

    return sweep


def init_app(app: Any) -> None:
    """The ``audit-checkpoint`` command, and the sweeper that writes one when a chain moved."""
    import click

    sweepers = app.extensions.setdefault("chengbao_sweepers", [])
    sweepers.append(checkpoint_sweeper(app.config))

    @app.cli.command("audit-checkpoint")
    def audit_checkpoint() -> None:
        """Sign the audit chains' heads into a new checkpoint file (outside the database)."""
        try:
            path = write_checkpoint(app.config)
        except CheckpointKeyMissing as exc:
            raise click.ClickException(str(exc)) from exc
        assert path is not None  # always written when not asked to skip
        body = json.loads(path.read_bytes())
        chains = ", ".join(f"{name} seq {head['seq']} {head['hash'][:16]}" for name, head in body["chains"].items())
        click.echo(f"wrote {path} ({chains})")
