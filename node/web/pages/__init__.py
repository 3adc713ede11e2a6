"""Server-rendered pages for members and operators.

Pages call the same domain services as the client API; they add sessions in a
cookie, CSRF-checked forms (:mod:`node.web.pages.forms`), templates
(:mod:`node.web.pages.site`) and translations. Each page module holds a
``routes`` table that :func:`add_page_routes` registers.
"""

from __future__ import annotations

from aiohttp import web

from node.web.pages import site


def add_page_routes(app: web.Application) -> None:
    from node.web.pages import home

    site.setup_templates(app)
    for module in (home,):
        app.router.add_routes(module.routes)
    app.router.add_static("/static", site.STATIC_DIR, name="static")
