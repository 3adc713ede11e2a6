"""Uploaded images (already re-encoded and stripped of metadata)."""

from __future__ import annotations

from node.storage.queries._base import QueryBase
from node.storage.records import Image


class ImageQueries(QueryBase):
    async def insert_image(self, image: Image) -> None:
        await self._exec(
            "INSERT INTO images (id, member_id, media_type, width, height, size_bytes, filename,"
            " thumbnail_filename, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                image.id,
                image.member_id,
                image.media_type,
                image.width,
                image.height,
                image.size_bytes,
                image.filename,
                image.thumbnail_filename,
                image.description,
                image.created_at,
            ),
        )

    async def get_image(self, image_id: str) -> Image | None:
        row = await self._one("SELECT * FROM images WHERE id = ?", (image_id,))
        return None if row is None else Image(**dict(row))

    async def get_image_by_filename(self, filename: str) -> Image | None:
        row = await self._one(
            "SELECT * FROM images WHERE filename = ? OR thumbnail_filename = ?",
            (filename, filename),
        )
        return None if row is None else Image(**dict(row))

    async def delete_image(self, image_id: str) -> None:
        await self._exec("DELETE FROM images WHERE id = ?", (image_id,))

    async def image_in_use(self, image_id: str) -> bool:
        row = await self._one(
            "SELECT 1 AS used FROM listing_images WHERE image_id = ? LIMIT 1", (image_id,)
        )
        return row is not None
