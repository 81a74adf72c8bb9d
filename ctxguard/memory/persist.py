"""On-disk form of a TrustScopedStore: a directory with a FAISS index, signed entries and a manifest.

    <dir>/index-<gen>.faiss     faiss.write_index of the IndexIDMap2
    <dir>/entries-<gen>.jsonl   one entry a line: id, text, metadata, expiry, signed label, record MAC
    <dir>/manifest.json         format and version, dim, which generation is current, the index file's
                                SHA-256, all under a MAC with the firewall's label key

Why this shape: a memory file is exactly where a poisoned entry would be promoted to trusted (edit
its label) or kept alive (edit its expiry). Each label is signed with ``LabelSigner`` over the label
and the content hash, and a record MAC binds the id, expiry and metadata to that signature and to the
store (a random ``store_id`` in the signed manifest: a line copied from another store saved with the
same key does not verify here), so one edited entry reads back with a fail-closed label (lowest
trust, highest confidentiality, unverified: out of scope for every tenant session) while the rest
load. The vectors cannot be checked entry by entry cheaply, so the index file is pinned by hash in
the signed manifest and any change to it (or a wrong key) refuses the whole load. A save writes a new
generation next to the old one and commits by renaming the manifest, so a crash mid-save leaves the
previous store readable.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError, IntegrityError
from ..labels import METADATA_KEY, SIGNATURE_KEY, Label, LabelSigner

FORMAT = "ctxguard.memory"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def _canonical(data: Mapping[str, Any]) -> str:
    # ASCII: a lone surrogate in a text (which the detectors tolerate) must not break the UTF-8 file.
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One entry as read back: its label already verified (or failed closed)."""

    id: int
    text: str
    label: Label
    metadata: Mapping[str, Any]
    expires_at: float | None


def _record(
    store_id: str | None, id_: int, metadata: Mapping[str, Any], expires_at: object, label_sig: object
) -> dict[str, Any]:
    """What the record MAC covers; stores saved before ``store_id`` existed have none and bind no store."""
    record = {"id": id_, "metadata": dict(metadata), "expires_at": expires_at, "label_sig": label_sig}
    if store_id is not None:
        record["store"] = store_id
    return record


def encode_entry(
    signer: LabelSigner, id_: int, text: str, label: Label, metadata: Mapping[str, Any], expires_at: float | None,
    store_id: str | None = None,
) -> str:
    signed = signer.sign(label)
    record = _record(store_id, id_, metadata, expires_at, signed[SIGNATURE_KEY])
    mac = signer.sign_payload(_canonical(record))
    record.pop("store", None)  # implied by the manifest, not repeated on every line
    return _canonical({**record, "text": text, "label": signed[METADATA_KEY], "sig": mac}) + "\n"


def decode_entry(signer: LabelSigner, line: str, lineno: int, store_id: str | None = None) -> StoredEntry:
    """One line back to an entry; a structurally broken line is an error, a forged one fails closed."""
    try:
        raw = json.loads(line)
        id_ = raw["id"]
        text = raw["text"]
        metadata = raw["metadata"]
        expires_at = raw["expires_at"]
        payload = raw["label"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise IntegrityError(f"memory entries line {lineno} is not a valid entry record") from None
    if (
        not isinstance(id_, int) or isinstance(id_, bool) or id_ < 0
        or not isinstance(text, str) or not isinstance(metadata, dict)
        or not (expires_at is None or isinstance(expires_at, int | float))
    ):
        raise IntegrityError(f"memory entries line {lineno} has fields of the wrong type")
    record = _record(store_id, id_, metadata, expires_at, raw.get("label_sig"))
    meta: dict[str, Any] = {METADATA_KEY: payload}
    # Without a valid record MAC the label signature is withheld, so verify() fails closed but still
    # reports the claimed source and tenant for the operator.
    if signer.verify_payload(_canonical(record), raw.get("sig")):
        meta[SIGNATURE_KEY] = raw.get("label_sig")
    label = signer.verify(meta, text, source="memory:unverified")
    return StoredEntry(id_, text, label, metadata, None if expires_at is None else float(expires_at))


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms cannot open a directory; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_store(
    root: Path,
    *,
    faiss: Any,
    index: Any,
    lines: Iterable[str],
    header: Mapping[str, Any],
    signer: LabelSigner,
) -> None:
    """Write a new generation and switch the manifest to it; remove older generations afterwards."""
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"memory store path {str(root)!r} exists and is not a directory")
    root.mkdir(parents=True, exist_ok=True)
    gen = secrets.token_hex(8)
    index_name, entries_name = f"index-{gen}.faiss", f"entries-{gen}.jsonl"
    tmp_index, tmp_entries = root / f"{index_name}.tmp", root / f"{entries_name}.tmp"
    faiss.write_index(index, str(tmp_index))
    _fsync_file(tmp_index)
    with open(tmp_entries, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(lines)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp_index, root / index_name)
    os.replace(tmp_entries, root / entries_name)
    manifest = {
        **header,
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "index_file": index_name,
        "entries_file": entries_name,
        "index_sha256": _sha256_file(root / index_name),
    }
    manifest["sig"] = signer.sign_payload(_canonical(manifest))
    tmp_manifest = root / f"{MANIFEST}.{gen}.tmp"
    with open(tmp_manifest, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp_manifest, root / MANIFEST)
    _fsync_dir(root)
    for old in root.iterdir():
        if old.name not in (index_name, entries_name, MANIFEST) and old.name.startswith(("index-", "entries-")):
            old.unlink(missing_ok=True)


def read_manifest(root: Path, signer: LabelSigner) -> dict[str, Any]:
    path = root / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"no memory store at {str(root)!r} (missing {MANIFEST})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise IntegrityError(f"{MANIFEST} in {str(root)!r} is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IntegrityError(f"{str(path)!r} is not a ctxguard memory store manifest")
    version = manifest.get("version")
    if version != FORMAT_VERSION:
        raise ConfigurationError(
            f"memory store format version {version!r} is not one this ctxguard reads ({FORMAT_VERSION})"
        )
    sig = manifest.pop("sig", None)
    if not signer.verify_payload(_canonical(manifest), sig):
        raise IntegrityError(
            f"the memory store manifest in {str(root)!r} does not verify: it was written with another signing "
            "key (set CTXGUARD_SIGNING_KEY or Firewall(signing_key=...) to the one used to save it) or edited"
        )
    for key in ("index_file", "entries_file", "index_sha256"):
        if not isinstance(manifest.get(key), str) or "/" in manifest[key] or "\\" in manifest[key]:
            raise IntegrityError(f"memory store manifest field {key!r} is invalid")
    if not (manifest.get("store_id") is None or isinstance(manifest["store_id"], str)):
        raise IntegrityError("memory store manifest field 'store_id' is invalid")
    return manifest


def read_index(root: Path, manifest: Mapping[str, Any], faiss: Any) -> Any:
    path = root / str(manifest["index_file"])
    if not path.is_file():
        raise FileNotFoundError(f"memory store index file {path.name!r} is missing from {str(root)!r}")
    if _sha256_file(path) != manifest["index_sha256"]:
        raise IntegrityError(f"memory store index file {path.name!r} does not match its manifest (changed or corrupt)")
    try:
        return faiss.read_index(str(path))
    except RuntimeError:
        raise IntegrityError(f"memory store index file {path.name!r} cannot be read by FAISS") from None


def read_entries(root: Path, manifest: Mapping[str, Any], signer: LabelSigner) -> Iterator[StoredEntry]:
    path = root / str(manifest["entries_file"])
    if not path.is_file():
        raise FileNotFoundError(f"memory store entries file {path.name!r} is missing from {str(root)!r}")
    with open(path, encoding="utf-8", errors="strict") as f:
        try:
            for lineno, line in enumerate(f, 1):
                if line.strip():
                    yield decode_entry(signer, line, lineno, manifest.get("store_id"))
        except UnicodeDecodeError:
            raise IntegrityError(f"memory store entries file {path.name!r} is not UTF-8") from None
