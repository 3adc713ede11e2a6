"""Form posts from a plain HTTP client, as a page in a browser sends them."""

from __future__ import annotations

from tests.federation.harness import Node
from tests.web.listing_support import csrf_token


async def post(node: Node, path: str, cookies: dict[str, str], **form: str) -> tuple[int, str]:
    """A form post as a page would send it: the CSRF token in the cookie and the
    form. Answers the status and the page, or where a redirect leads."""
    assert node.session is not None
    token = await csrf_token(node, cookies)
    form.setdefault("csrf_token", token)
    async with node.session.post(path, data=form, cookies={**cookies, "kula_csrf": token},
                                 allow_redirects=False) as got:
        if got.status == 303:
            return got.status, got.headers["Location"]
        return got.status, await got.text()
