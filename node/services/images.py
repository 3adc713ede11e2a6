"""Image uploads: decoded and re-encoded with Pillow, so only pixels survive.
EXIF (GPS position, camera serials), XMP, ICC and text chunks are dropped;
EXIF orientation is applied first so photos stay upright."""

from __future__ import annotations

import asyncio
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from node.errors import Conflict, NotFound, UnsupportedMediaType, ValidationFailed
from node.ids import new_id
from node.services.context import NodeContext
from node.storage.records import Image, Member
from node.timeutil import now_text

ACCEPTED_FORMATS = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}
MAX_PIXELS = 40_000_000
MAX_SIDE = 2048
THUMBNAIL_SIDE = 400
MAX_DESCRIPTION = 1500


@dataclass(frozen=True)
class EncodedImage:
    media_type: str
    extension: str
    width: int
    height: int
    full: bytes
    thumbnail: bytes


def _encode(picture: PILImage.Image, keep_alpha: bool) -> tuple[bytes, str, str]:
    buffer = io.BytesIO()
    if keep_alpha:
        picture.save(buffer, "PNG", optimize=True)
        return buffer.getvalue(), "image/png", "png"
    picture.convert("RGB").save(buffer, "JPEG", quality=85, optimize=True)
    return buffer.getvalue(), "image/jpeg", "jpg"


def reencode(data: bytes) -> EncodedImage:
    """Decode untrusted bytes and produce clean full-size and thumbnail images."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as probe:
                if probe.format not in ACCEPTED_FORMATS:
                    raise UnsupportedMediaType(
                        f"images must be JPEG, PNG, WebP or GIF, not {probe.format}"
                    )
                if probe.width * probe.height > MAX_PIXELS:
                    raise ValidationFailed(f"the image has more than {MAX_PIXELS} pixels")
                probe.seek(0)
                picture = ImageOps.exif_transpose(probe)
                picture.load()
    except (UnidentifiedImageError, PILImage.DecompressionBombError,
            PILImage.DecompressionBombWarning, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, ValidationFailed | UnsupportedMediaType):
            raise
        raise UnsupportedMediaType(
            "the upload is not a readable JPEG, PNG, WebP or GIF image"
        ) from None
    keep_alpha = picture.mode in {"RGBA", "LA", "PA"} or "transparency" in picture.info
    picture = picture.convert("RGBA" if keep_alpha else "RGB")
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    full, media_type, extension = _encode(picture, keep_alpha)
    small = picture.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    thumbnail, _, _ = _encode(small, keep_alpha)
    return EncodedImage(media_type, extension, picture.width, picture.height, full, thumbnail)


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_suffix(path.suffix + ".part")
    partial.write_bytes(data)
    partial.replace(path)


async def store_image(
    ctx: NodeContext, member: Member, data: bytes, description: str = ""
) -> Image:
    if len(description) > MAX_DESCRIPTION:
        raise ValidationFailed(
            f"the description is longer than {MAX_DESCRIPTION} characters",
            errors=[{"pointer": "/description", "reason": "too long"}],
        )
    encoded = await asyncio.to_thread(reencode, data)
    image_id = new_id()
    media = ctx.settings.media_dir
    media.mkdir(parents=True, exist_ok=True)
    full_name = f"{image_id}.{encoded.extension}"
    thumb_name = f"{image_id}.thumb.{encoded.extension}"
    image = Image(
        id=image_id, member_id=member.id, media_type=encoded.media_type, width=encoded.width,
        height=encoded.height, size_bytes=len(encoded.full), filename=full_name,
        thumbnail_filename=thumb_name, description=description, created_at=now_text(),
    )
    # Files first, then the row: a crash in between leaves an orphan file, never a
    # row pointing at nothing.
    await asyncio.to_thread(_write_atomically, media / full_name, encoded.full)
    await asyncio.to_thread(_write_atomically, media / thumb_name, encoded.thumbnail)
    try:
        async with ctx.storage.transaction() as tx:
            await tx.insert_image(image)
    except BaseException:
        (media / full_name).unlink(missing_ok=True)
        (media / thumb_name).unlink(missing_ok=True)
        raise
    return image


async def get_own_image(ctx: NodeContext, member: Member, image_id: str) -> Image:
    async with ctx.storage.read() as session:
        image = await session.get_image(image_id)
    if image is None or image.member_id != member.id:
        raise NotFound(f"no image {image_id!r} of yours")
    return image


async def delete_image(ctx: NodeContext, member: Member, image_id: str) -> None:
    async with ctx.storage.transaction() as tx:
        image = await tx.get_image(image_id)
        if image is None or image.member_id != member.id:
            raise NotFound(f"no image {image_id!r} of yours")
        if await tx.image_in_use(image_id):
            raise Conflict("the image is attached to a listing; remove it there first")
        await tx.delete_image(image_id)
    for name in (image.filename, image.thumbnail_filename):
        (ctx.settings.media_dir / name).unlink(missing_ok=True)


async def discard_unused(ctx: NodeContext, member: Member, image_ids: list[str]) -> None:
    """Delete those of ``image_ids`` no listing uses any more: the pages upload
    an image for one listing, so removing it there (or deleting the listing)
    should not leave the file behind."""
    for image_id in image_ids:
        try:
            await delete_image(ctx, member, image_id)
        except (NotFound, Conflict):
            continue
