"""SQLite adapter for VideoStore and KeyStore (WAL mode, so `vidgate keys` works while serving)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import aiosqlite
from yoyo import get_backend, read_migrations

from vidgate.domain.video import Video, VideoFailure, VideoStatus
from vidgate.ports import ApiKeyRecord, Page

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_VIDEO_COLUMNS = (
    "id owner model prompt size seconds quality status progress created_at completed_at expires_at "
    "remixed_from_video_id error_code error_message input_reference_key assets_purged "
    "metadata provider upstream_task_id upstream_state submit_state"
).split()
_ACTIVE = (VideoStatus.QUEUED.value, VideoStatus.IN_PROGRESS.value)


def migrate(db_path: Path) -> None:
    """Brings the schema up to date (yoyo records what ran). Blocking: call before serving or in a thread."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    backend = get_backend(f"sqlite:///{db_path}")
    with backend.lock():
        backend.apply_migrations(backend.to_apply(read_migrations(str(MIGRATIONS))))


def _row_to_video(row: aiosqlite.Row) -> Video:
    error = VideoFailure(row["error_code"], row["error_message"]) if row["error_code"] else None
    return Video(
        id=row["id"],
        owner=row["owner"],
        model=row["model"],
        prompt=row["prompt"],
        size=row["size"],
        seconds=row["seconds"],
        quality=row["quality"],
        status=VideoStatus(row["status"]),
        progress=row["progress"],
        created_at=row["created_at"],
        completed_at=row["completed_at"],
        expires_at=row["expires_at"],
        remixed_from_video_id=row["remixed_from_video_id"],
        error=error,
        input_reference_key=row["input_reference_key"],
        assets_purged=bool(row["assets_purged"]),
        metadata=json.loads(row["metadata"]) if row["metadata"] else {},
        provider=row["provider"],
        upstream_task_id=row["upstream_task_id"],
        upstream_state=json.loads(row["upstream_state"]) if row["upstream_state"] else {},
        submit_state=row["submit_state"],
    )


def _video_values(video: Video) -> dict[str, Any]:
    values = {f.name: getattr(video, f.name) for f in fields(video) if f.name in _VIDEO_COLUMNS}
    values["status"] = video.status.value
    values["error_code"] = video.error.code if video.error else None
    values["error_message"] = video.error.message if video.error else None
    values["assets_purged"] = int(video.assets_purged)
    values["metadata"] = json.dumps(video.metadata) if video.metadata else None
    values["upstream_state"] = json.dumps(video.upstream_state) if video.upstream_state else None
    values["updated_at"] = int(time.time())
    return values


def _row_to_key(row: aiosqlite.Row) -> ApiKeyRecord:
    models = json.loads(row["allowed_models"]) if row["allowed_models"] is not None else None
    return ApiKeyRecord(
        id=row["id"],
        name=row["name"],
        hint=row["hint"],
        allowed_models=frozenset(models) if models is not None else None,
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


class SqliteStore:
    """One connection, serialised by aiosqlite's worker thread; writes are short single statements."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, db_path: Path) -> SqliteStore:
        await asyncio.to_thread(migrate, db_path)
        conn = await aiosqlite.connect(db_path)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA busy_timeout=5000")
        await conn.execute("PRAGMA foreign_keys=ON")
        return cls(conn)

    async def close(self) -> None:
        await self._conn.close()

    async def _write(self, sql: str, params: Sequence[Any] | dict[str, Any]) -> int:
        async with self._write_lock:
            cursor = await self._conn.execute(sql, params)
            await self._conn.commit()
            return cursor.rowcount

    async def _fetch(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[aiosqlite.Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    # VideoStore

    async def insert(self, video: Video) -> None:
        values = _video_values(video)
        names = ", ".join(values)
        await self._write(f"INSERT INTO videos ({names}) VALUES ({', '.join(':' + n for n in values)})", values)

    async def get(self, video_id: str) -> Video | None:
        rows = await self._fetch("SELECT * FROM videos WHERE id = ?", (video_id,))
        return _row_to_video(rows[0]) if rows else None

    async def list_page(self, owner: str, *, after: str | None, limit: int, descending: bool) -> Page:
        op, direction = ("<", "DESC") if descending else (">", "ASC")
        where, params = "owner = ?", [owner]
        if after is not None:
            where += f" AND id {op} ?"
            params.append(after)
        rows = await self._fetch(
            f"SELECT * FROM videos WHERE {where} ORDER BY id {direction} LIMIT ?", (*params, limit + 1)
        )
        return Page(videos=[_row_to_video(r) for r in rows[:limit]], has_more=len(rows) > limit)

    async def count_active(self, owner: str) -> int:
        rows = await self._fetch(
            "SELECT COUNT(*) AS n FROM videos WHERE owner = ? AND status IN (?, ?)", (owner, *_ACTIVE)
        )
        return int(rows[0]["n"])

    async def list_active(self) -> Sequence[Video]:
        rows = await self._fetch("SELECT * FROM videos WHERE status IN (?, ?) ORDER BY id", _ACTIVE)
        return [_row_to_video(r) for r in rows]

    async def update(self, video: Video, *, expected: Sequence[VideoStatus]) -> bool:
        values = _video_values(video)
        assignments = ", ".join(f"{n} = :{n}" for n in values if n not in ("id", "owner", "created_at"))
        marks = ", ".join(f":expected{i}" for i in range(len(expected)))
        values.update({f"expected{i}": s.value for i, s in enumerate(expected)})
        return await self._write(f"UPDATE videos SET {assignments} WHERE id = :id AND status IN ({marks})", values) == 1

    async def delete(self, video_id: str) -> bool:
        return await self._write("DELETE FROM videos WHERE id = ?", (video_id,)) == 1

    async def list_expired(self, now: int, limit: int) -> Sequence[Video]:
        rows = await self._fetch(
            "SELECT * FROM videos WHERE assets_purged = 0 AND expires_at IS NOT NULL AND expires_at <= ? "
            "ORDER BY expires_at LIMIT ?",
            (now, limit),
        )
        return [_row_to_video(r) for r in rows]

    # KeyStore

    async def add_key(self, record: ApiKeyRecord, key_hash: str) -> None:
        models = json.dumps(sorted(record.allowed_models)) if record.allowed_models is not None else None
        await self._write(
            "INSERT INTO api_keys (id, name, key_hash, hint, allowed_models, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (record.id, record.name, key_hash, record.hint, models, record.created_at),
        )

    async def find_key(self, key_hash: str) -> ApiKeyRecord | None:
        rows = await self._fetch("SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", (key_hash,))
        return _row_to_key(rows[0]) if rows else None

    async def list_keys(self) -> Sequence[ApiKeyRecord]:
        return [_row_to_key(r) for r in await self._fetch("SELECT * FROM api_keys ORDER BY created_at, id")]

    async def revoke_key(self, key_id: str, now: int) -> bool:
        return await self._write("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, key_id)) == 1

    async def count_keys(self) -> int:
        rows = await self._fetch("SELECT COUNT(*) AS n FROM api_keys")
        return int(rows[0]["n"])
