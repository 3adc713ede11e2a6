"""Shared helpers for the node's functional tests: problem checks, row counts,
listing bodies and test images."""

from __future__ import annotations

import io
from typing import Any

from aiohttp import ClientResponse
from PIL import Image

from node.services.context import NodeContext
from node.web.problems import PROBLEM_BASE, PROBLEM_CONTENT_TYPE
from protocol.validation import reference_validate, validate

#: Tables whose row counts prove that a refused request wrote nothing.
TABLES = (
    "members",
    "tokens",
    "invites",
    "images",
    "listings",
    "listing_categories",
    "listing_images",
    "activities",
)


async def assert_problem(response: ClientResponse, status: int, slug: str) -> dict[str, Any]:
    """Check that ``response`` is an RFC 9457 problem of ``status`` and ``slug``."""
    body_text = await response.text()
    assert response.status == status, body_text
    assert response.content_type == PROBLEM_CONTENT_TYPE, body_text
    body = await response.json(content_type=PROBLEM_CONTENT_TYPE)
    assert body["type"] == PROBLEM_BASE + slug, body
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    for error in body.get("errors", []):
        assert set(error) == {"pointer", "reason"}
        assert error["pointer"] == "" or error["pointer"].startswith("/")
    return body


def pointers(problem: dict[str, Any]) -> set[str]:
    return {error["pointer"] for error in problem.get("errors", [])}


async def json_body(response: ClientResponse, status: int, schema: str | None) -> Any:
    """Check the status, parse the JSON body and validate it with both validators."""
    text = await response.text()
    assert response.status == status, text
    assert response.content_type == "application/json", response.content_type
    body = await response.json()
    if schema is not None:
        validate(body, schema)
        reference_validate(body, schema)
    return body


async def row_counts(ctx: NodeContext) -> dict[str, int]:
    """Rows in every table that a request could write to."""
    counts = {}
    async with ctx.storage.read() as session:
        for table in TABLES:
            row = await session._one(f"SELECT count(*) AS n FROM {table}")
            assert row is not None
            counts[table] = int(row["n"])
    return counts


async def execute(ctx: NodeContext, sql: str, params: tuple[Any, ...] = ()) -> int:
    """Run one write statement directly (to set up states the API cannot reach)."""
    async with ctx.storage.transaction() as tx:
        return await tx._exec(sql, params)


def listing_body(**overrides: Any) -> dict[str, Any]:
    """A valid listing create body (a drill for sale); ``None`` values are dropped."""
    body: dict[str, Any] = {
        "purpose": "offer",
        "mode": "sell",
        "title": "Cordless drill",
        "description": "Works well.\n\nBattery included.",
        "categories": ["tools"],
        "price": {"amount": "25.00", "currency": "EUR"},
        "location": {"latitude": 52.52001, "longitude": 13.40495, "precision": "street"},
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def png_bytes(size: tuple[int, int] = (32, 24), *, alpha: bool = False) -> bytes:
    mode = "RGBA" if alpha else "RGB"
    colour = (200, 30, 30, 128) if alpha else (200, 30, 30)
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def gps_exif() -> Image.Exif:
    """An EXIF block with a camera model and a GPS position (Berlin)."""
    exif = Image.Exif()
    exif[0x0110] = "Spy camera"  # Model
    gps = {
        1: "N",
        2: (52.0, 31.0, 12.0),
        3: "E",
        4: (13.0, 24.0, 18.0),
    }
    exif[0x8825] = gps  # GPSInfo IFD
    return exif


def jpeg_with_gps(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, "JPEG", exif=gps_exif().tobytes())
    data = buffer.getvalue()
    with Image.open(io.BytesIO(data)) as check:
        # The fixture must really carry GPS data, or the test proves nothing.
        assert check.getexif().get_ifd(0x8825), "test image lacks a GPS IFD"
    return data


def png_with_exif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (20, 20), (0, 255, 0, 100)).save(
        buffer, "PNG", exif=gps_exif().tobytes()
    )
    return buffer.getvalue()


def has_metadata(data: bytes) -> list[str]:
    """Every kind of metadata Pillow finds in an encoded image."""
    found = []
    with Image.open(io.BytesIO(data)) as picture:
        if picture.getexif():
            found.append("exif")
        for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"):
            if picture.info.get(key):
                found.append(key)
    if b"Exif\x00\x00" in data or b"eXIf" in data:
        found.append("raw exif marker")
    return found
