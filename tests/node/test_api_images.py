"""Client API: image uploads (multipart and raw), metadata stripping, the
media files they produce, and every way an upload can be refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from conftest import MemberFactory, make_settings
from helpers import (
    assert_problem,
    has_metadata,
    jpeg_with_gps,
    json_body,
    listing_body,
    png_bytes,
    png_with_exif,
    row_counts,
)
from PIL import Image

from node.services.context import NodeContext
from node.settings import Settings


def form(data: bytes, content_type: str = "image/png", description: str | None = None,
         field: str = "file") -> FormData:
    payload = FormData()
    payload.add_field(field, data, filename="upload.bin", content_type=content_type)
    if description is not None:
        payload.add_field("description", description)
    return payload


def media_files(settings: Settings) -> list[str]:
    return sorted(p.name for p in settings.media_dir.glob("*")) if settings.media_dir.exists() \
        else []


async def fetch_media(client: TestClient, url: str) -> tuple[bytes, str]:
    path = url.removeprefix("http://127.0.0.1:8080")
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return await response.read(), response.content_type


@pytest.mark.spec("Kula API POST /api/v1/images")
async def test_multipart_upload(
    client: TestClient, settings: Settings, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    response = await client.post(
        "/api/v1/images", data=form(png_bytes((640, 480)), description="Red square"),
        headers=alice.auth,
    )
    body = await json_body(response, 201, "api-image")
    assert (body["width"], body["height"], body["media_type"]) == (640, 480, "image/jpeg")
    assert body["description"] == "Red square"
    data, content_type = await fetch_media(client, body["url"])
    assert content_type == "image/jpeg"
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.size == (640, 480)
    thumb, _ = await fetch_media(client, body["thumbnail_url"])
    with Image.open(io.BytesIO(thumb)) as picture:
        assert max(picture.size) == 400
    shown = await json_body(
        await client.get(f"/api/v1/images/{body['id']}", headers=alice.auth), 200, "api-image"
    )
    assert shown == body


@pytest.mark.spec("Kula API POST /api/v1/images")
async def test_raw_upload_keeps_transparency(
    client: TestClient, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    response = await client.post(
        "/api/v1/images?description=Glass", data=png_bytes(alpha=True),
        headers={**alice.auth, "Content-Type": "image/png"},
    )
    body = await json_body(response, 201, "api-image")
    assert (body["media_type"], body["description"]) == ("image/png", "Glass")


@pytest.mark.spec("Kula privacy: image metadata")
async def test_gps_exif_is_removed_from_served_files(
    client: TestClient, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    original = jpeg_with_gps()
    assert "exif" in has_metadata(original)
    for upload in (
        form(original, "image/jpeg"),
        form(png_with_exif()),
    ):
        response = await client.post("/api/v1/images", data=upload, headers=alice.auth)
        body = await json_body(response, 201, "api-image")
        for url in (body["url"], body["thumbnail_url"]):
            data, _ = await fetch_media(client, url)
            assert has_metadata(data) == [], url
            assert b"Spy camera" not in data


@pytest.mark.spec("Kula API POST /api/v1/images")
async def test_refused_uploads_write_nothing(
    client: TestClient, ctx: NodeContext, settings: Settings, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    reader = await make_member("bob", scope="read")
    before = await row_counts(ctx)
    bmp = io.BytesIO()
    Image.new("RGB", (4, 4)).save(bmp, "BMP")
    cases = [
        (form(b"GIF89a but not really"), alice.auth, 415, "unsupported-media-type"),
        (form(b"hello, world", "text/plain"), alice.auth, 415, "unsupported-media-type"),
        (form(bmp.getvalue(), "image/bmp"), alice.auth, 415, "unsupported-media-type"),
        (form(png_bytes()[:40]), alice.auth, 415, "unsupported-media-type"),
        (form(png_bytes(), field="picture"), alice.auth, 400, "bad-request"),
        (form(b""), alice.auth, 400, "bad-request"),
        (form(png_bytes(), description="x" * 1501), alice.auth, 422, "validation-failed"),
        (form(png_bytes()), {}, 401, "unauthorized"),
        (form(png_bytes()), reader.auth, 403, "forbidden"),
    ]
    for payload, headers, status, slug in cases:
        response = await client.post("/api/v1/images", data=payload, headers=headers)
        await assert_problem(response, status, slug)
    for data, content_type, status, slug in [
        (png_bytes(), "application/json", 415, "unsupported-media-type"),
        (png_bytes(), "application/octet-stream", 415, "unsupported-media-type"),
        (b"not a png", "image/png", 415, "unsupported-media-type"),
        (b"", "image/png", 400, "bad-request"),
    ]:
        response = await client.post(
            "/api/v1/images", data=data, headers={**alice.auth, "Content-Type": content_type}
        )
        await assert_problem(response, status, slug)
    assert await row_counts(ctx) == before
    assert media_files(settings) == []


@pytest.mark.spec("Kula API POST /api/v1/images")
async def test_too_many_pixels(
    client: TestClient, ctx: NodeContext, settings: Settings, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    buffer = io.BytesIO()
    # Tiny on disk, 48 megapixels once decoded.
    Image.new("1", (8000, 6000)).save(buffer, "PNG")
    before = await row_counts(ctx)
    response = await client.post(
        "/api/v1/images", data=buffer.getvalue(),
        headers={**alice.auth, "Content-Type": "image/png"},
    )
    await assert_problem(response, 422, "validation-failed")
    assert await row_counts(ctx) == before
    assert media_files(settings) == []


class TestImageSizeLimit:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return make_settings(tmp_path / "node", max_image_bytes=4096)

    @pytest.mark.spec("RFC 9110 §15.5.14")
    async def test_oversized_images_are_refused(
        self, client: TestClient, ctx: NodeContext, settings: Settings,
        make_member: MemberFactory,
    ) -> None:
        alice = await make_member("alice")
        big = jpeg_with_gps((300, 300)) + b"\x00" * 4096
        small = png_bytes((8, 8))
        assert len(small) < 4096 < len(big)
        before = await row_counts(ctx)
        response = await client.post("/api/v1/images", data=form(big, "image/jpeg"),
                                      headers=alice.auth)
        await assert_problem(response, 413, "payload-too-large")
        response = await client.post(
            "/api/v1/images", data=big, headers={**alice.auth, "Content-Type": "image/jpeg"}
        )
        await assert_problem(response, 413, "payload-too-large")
        assert await row_counts(ctx) == before
        assert media_files(settings) == []
        response = await client.post("/api/v1/images", data=form(small), headers=alice.auth)
        await json_body(response, 201, "api-image")


@pytest.mark.spec("Kula API /api/v1/images/{id}")
async def test_images_are_private_to_their_owner(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    bob = await make_member("bob")
    response = await client.post("/api/v1/images", data=form(png_bytes()), headers=alice.auth)
    image = await json_body(response, 201, "api-image")
    before = await row_counts(ctx)
    for method in ("GET", "DELETE"):
        for image_id, headers in (
            (image["id"], bob.auth),
            ("01aaaaaaaaaaaaaaaaaaaaaaaa", alice.auth),
        ):
            response = await client.request(method, f"/api/v1/images/{image_id}",
                                            headers=headers)
            await assert_problem(response, 404, "not-found")
        response = await client.request(method, f"/api/v1/images/{image['id']}")
        await assert_problem(response, 401, "unauthorized")
    assert await row_counts(ctx) == before


@pytest.mark.spec("Kula API DELETE /api/v1/images/{id}")
async def test_delete_image_and_its_files(
    client: TestClient, ctx: NodeContext, settings: Settings, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    response = await client.post("/api/v1/images", data=form(png_bytes()), headers=alice.auth)
    image = await json_body(response, 201, "api-image")
    response = await client.delete(f"/api/v1/images/{image['id']}", headers=alice.auth)
    assert response.status == 204
    assert media_files(settings) == []
    for url in (image["url"], image["thumbnail_url"]):
        response = await client.get(url.removeprefix("http://127.0.0.1:8080"))
        await assert_problem(response, 404, "not-found")


@pytest.mark.spec("Kula API DELETE /api/v1/images/{id}")
async def test_image_attached_to_a_listing(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    response = await client.post(
        "/api/v1/images", data=form(png_bytes(), description="The drill"), headers=alice.auth
    )
    image = await json_body(response, 201, "api-image")
    response = await client.post(
        "/api/v1/listings", json=listing_body(images=[image["id"]]), headers=alice.auth
    )
    listing = await json_body(response, 201, "api-listing")
    assert listing["images"] == [{"id": image["id"], "url": image["url"]}]
    document = await (await client.get(f"/listings/{listing['id']}")).json(content_type=None)
    [attachment] = document["attachment"]
    assert (attachment["url"], attachment["name"]) == (image["url"], "The drill")

    before = await row_counts(ctx)
    response = await client.delete(f"/api/v1/images/{image['id']}", headers=alice.auth)
    await assert_problem(response, 409, "conflict")
    assert await row_counts(ctx) == before
    # Once the listing is deleted, nothing refers to the image any more.
    response = await client.delete(f"/api/v1/listings/{listing['id']}", headers=alice.auth)
    assert response.status == 204
    response = await client.delete(f"/api/v1/images/{image['id']}", headers=alice.auth)
    assert response.status == 204


@pytest.mark.spec("Kula media")
async def test_media_names_are_checked(client: TestClient, settings: Settings) -> None:
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    for path in (
        "/media/kula.toml",
        "/media/..%2fkula.sqlite3",
        "/media/%2e%2e/kula.sqlite3",
        "/media/01aaaaaaaaaaaaaaaaaaaaaaaa.jpg",
        "/media/01AAAAAAAAAAAAAAAAAAAAAAAA.jpg",
    ):
        response = await client.get(path)
        assert response.status == 404, path
