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
    from node.web.pages import (
        account_settings,
        accounts,
        admin,
        admin_federation,
        admin_members,
        admin_reports,
        exchange_actions,
        exchange_list,
        exchange_view,
        home,
        listing_forms,
        listing_view,
        notifications,
        pool_pages,
        profiles,
        question_pages,
        remote_profiles,
        report,
        search_page,
        vouch_pages,
    )

    site.setup_templates(app)
    for module in (
        home, exchange_list, exchange_view, exchange_actions,
        search_page, listing_forms, listing_view,
        accounts, account_settings, profiles, remote_profiles, notifications,
        admin, admin_members, admin_federation, admin_reports, report,
        pool_pages, question_pages, vouch_pages,
    ):
        app.router.add_routes(module.routes)
    app.router.add_static("/static", site.STATIC_DIR, name="static")
