"""Path traversal through media names and upload file names.

``/media/{name}`` serves only names the node generated itself (26-character
ids with a fixed suffix), so no spelling of ``..`` reaches the file system.
An upload's file name is never used: stored files are named by new ids.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from conftest import MemberFactory

from node.settings import Settings
from tests.node.helpers import png_bytes

SECRET = "top secret content 4711"
#: What each request tries to read; a secret file sits beside the media folder.
TRAVERSALS = [
    "../secret.txt",
    "..%2fsecret.txt",
    "%2e%2e%2fsecret.txt",
    "%2e%2e/secret.txt",
    "..%5csecret.txt",
    "....%2f%2fsecret.txt",
    "%252e%252e%252fsecret.txt",
    "..%00.png",
    "%2fetc%2fpasswd",
    "..%2f..%2f..%2f..%2fetc%2fpasswd",
    "01aaaaaaaaaaaaaaaaaaaaaaaa.png%2f..%2f..%2fsecret.txt",
    "01AAAAAAAAAAAAAAAAAAAAAAAA.PNG",
    "01aaaaaaaaaaaaaaaaaaaaaaaa.png.txt",
    ".htaccess",
    "~",
]


@pytest.mark.spec("Kula THREAT_MODEL.md: path traversal in media names")
@pytest.mark.parametrize("name", TRAVERSALS)
async def test_media_names_never_leave_the_media_folder(
    client: TestClient, settings: Settings, name: str
) -> None:
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    (settings.media_dir.parent / "secret.txt").write_text(SECRET)
    response = await client.get(f"/media/{name}")
    body = await response.read()
    assert 400 <= response.status < 500, (response.status, body)
    assert SECRET.encode() not in body and b"root:" not in body
    # The problem echoes the path: it must not be sniffed or rendered as a page.
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert "default-src 'none'" in response.headers.get("Content-Security-Policy", "")


@pytest.mark.spec("Kula THREAT_MODEL.md: path traversal in upload file names")
@pytest.mark.parametrize(
    "filename", ["../../../evil.png", "..\\..\\evil.png", "/tmp/evil.png",
                 "<script>.png", "%2e%2e%2fevil.png"],
)
async def test_upload_file_names_are_never_used(
    client: TestClient, settings: Settings, make_member: MemberFactory, filename: str
) -> None:
    alice = await make_member("alice")
    form = FormData()
    form.add_field("file", png_bytes(), filename=filename, content_type="image/png")
    form.add_field("description", "<script>alert(1)</script>")
    response = await client.post("/api/v1/images", data=form, headers=alice.auth)
    assert response.status == 201, await response.text()
    image = await response.json()
    assert image["description"] == "<script>alert(1)</script>"  # plain text, served as JSON
    assert response.content_type == "application/json"
    stored = sorted(path.name for path in settings.media_dir.iterdir())
    assert len(stored) == 2 and all(name.startswith(image["id"]) for name in stored), stored
    everything = [path.name for path in Path(settings.data_dir).parent.rglob("*")]
    assert not any("evil" in name for name in everything), everything
    media = await client.get("/" + image["url"].split("/", 3)[3])
    assert media.status == 200 and media.content_type == "image/jpeg"
