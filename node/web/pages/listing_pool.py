"""What the listing page and the cards show of a pool: its goal, deadline and
time left, progress, state, the verified outcome once closed, and the
viewer's own pledge. Prepared from :func:`node.services.pool_views.pool_view`,
the same answer the API's ``GET .../pool`` gives."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

from node.errors import ValidationFailed
from node.services import pool_views
from node.services.context import NodeContext
from node.services.pool_terms import NotAPool, is_pool
from node.storage.records import Listing, Member
from node.web.pages.profile_views import label_actor
from node.web.pages.site import gettext as _
from node.web.pages.site import ngettext
from protocol.errors import ProtocolError
from protocol.pools import GoalKind, decimal_text, read_pool

#: Listing statuses under which a pool takes pledges (as the service says).
TAKING_STATUSES = ("available", "reserved")
#: Most commitments the page lists; the signed outcome holds them all.
MAX_COMMITMENTS_SHOWN = 100


def amount_text(kind: str, amount: str, unit: str | None, currency: str | None) -> str:
    """An amount in the pool's terms: "150.00 EUR", "3 places", "35 kilogram"."""
    if kind == GoalKind.MONEY.value:
        return f"{amount} {currency}"
    if kind == GoalKind.PARTICIPANTS.value:
        count = int(Decimal(amount))
        return ngettext("%(num)s place", "%(num)s places", count)
    return amount if unit in (None, "one") else f"{amount} {unit}"


def state_labels() -> dict[str, str]:
    return {"open": _("Open"), "succeeded": _("Goal reached"), "failed": _("Goal not reached")}


def kind_labels() -> dict[str, str]:
    return {
        "money": _("Crowdfunding: money"),
        "participants": _("Group buy: participants"),
        "quantity": _("Shared purchase: a quantity"),
    }


def time_left_text(seconds: int) -> str:
    """Roughly how long until the deadline: the two largest units."""
    if seconds <= 0:
        return _("The deadline has passed.")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        parts = [ngettext("%(num)s day", "%(num)s days", days)]
        if hours:
            parts.append(ngettext("%(num)s hour", "%(num)s hours", hours))
    elif hours:
        parts = [ngettext("%(num)s hour", "%(num)s hours", hours)]
        if minutes:
            parts.append(ngettext("%(num)s minute", "%(num)s minutes", minutes))
    elif minutes:
        parts = [ngettext("%(num)s minute", "%(num)s minutes", minutes)]
    else:
        return _("Less than a minute left.")
    return _("%(time)s left", time=", ".join(parts))


def _percent(pledged: str, goal: str) -> int:
    return min(100, int(Decimal(pledged) * 100 / Decimal(goal)))


def _deadline_text(deadline: str) -> str:
    return deadline[:16].replace("T", " ") + " UTC"


def pool_summary(listing: Listing) -> str | None:
    """One line for a card, from the pool's progress as last published; None
    when the listing is not a (readable) pool."""
    try:
        terms = read_pool(listing.document) if is_pool(listing) else None
    except ProtocolError:
        return None
    if terms is None:
        return None
    goal = amount_text(terms.kind.value, decimal_text(terms.goal), terms.unit, terms.currency)
    if terms.state.value != "open":
        return _("Pool closed: %(state)s", state=state_labels()[terms.state.value])
    return _("Pool: %(pledged)s of %(goal)s (%(percent)s%%)",
             pledged=decimal_text(terms.pledged), goal=goal,
             percent=_percent(str(terms.pledged), str(terms.goal)))


def _own_pledges(view: dict[str, Any]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The viewer's live pledge, and their others (committed, released, withdrawn)."""
    mine = view["your_pledges"]
    live = next((p for p in mine if p["state"] == "live"), None)
    return live, [p for p in mine if p["state"] != "live"]


def pledge_state_labels() -> dict[str, str]:
    return {
        "live": _("counted until the deadline"),
        "committed": _("now a commitment: the goal was reached"),
        "released": _("released: the goal was not reached"),
        "withdrawn": _("withdrawn"),
        "refused": _("refused by the organiser's community"),
    }


async def pool_section(
    ctx: NodeContext, listing: Listing, me: Member | None
) -> dict[str, Any] | None:
    """Everything the pool part of the listing page shows; None for other listings."""
    if not is_pool(listing):
        return None
    try:
        view = await pool_views.pool_view(ctx, listing.id, me)
    except (NotAPool, ValidationFailed):
        # A partner's pool this node cannot read: the listing is still shown.
        return None
    goal = view["goal"]
    kind, unit, currency = goal["kind"], goal["unit"], goal["currency"]

    def amount(text: str) -> str:
        return amount_text(kind, text, unit, currency)

    live, past = _own_pledges(view)
    is_author = me is not None and ctx.urls.actor(me.username) == view["author"]
    is_open = view["state"] == "open" and view["seconds_left"] > 0
    outcome = view["outcome"]
    commitments = []
    if outcome is not None:
        async with ctx.storage.read() as session:
            for entry in outcome["commitments"][:MAX_COMMITMENTS_SHOWN]:
                commitments.append({
                    "pledger": await label_actor(ctx, session, entry["pledger"]),
                    "amount": amount(entry["amount"]) if entry["amount"] else "",
                })
    outcome_iri = view["outcome_iri"]
    pledged = view["pledged"]
    states = pledge_state_labels()
    return {
        "kind": kind,
        "kind_label": kind_labels()[kind],
        "goal": amount(goal["amount"]),
        "goal_value": goal["amount"],
        "pledged": amount(pledged),
        "progress_label": _("Places taken: %(taken)s of %(goal)s", taken=view["pledge_count"],
                            goal=goal["amount"]) if kind == GoalKind.PARTICIPANTS.value
        else _("Pledged so far: %(pledged)s of %(goal)s", pledged=amount(pledged),
               goal=amount(goal["amount"])),
        "pledged_value": pledged,
        "count": view["pledge_count"],
        "percent": _percent(pledged, goal["amount"]),
        "unit_label": currency if kind == GoalKind.MONEY.value else (
            unit if unit not in (None, "one") else ""),
        "receives": view["receives"] or "",
        "maximum": amount(view["maximum_pledge"]) if view["maximum_pledge"] else "",
        "deadline": view["deadline"],
        "deadline_text": _deadline_text(view["deadline"]),
        "time_left": time_left_text(view["seconds_left"]) if view["state"] == "open" else "",
        "state": view["state"],
        "state_label": state_labels().get(view["state"], view["state"]) if is_open
        or view["state"] != "open" else _("Deadline passed: the outcome is being settled"),
        "is_open": is_open,
        "outcome": outcome is not None,
        "commitments": commitments,
        "more_commitments": max(0, len(outcome["commitments"]) - MAX_COMMITMENTS_SHOWN)
        if outcome else 0,
        "released": len(outcome["released"]) if outcome else 0,
        "outcome_url": outcome_iri if isinstance(outcome_iri, str)
        and outcome_iri.startswith(("https://", "http://")) else "",
        "is_author": is_author,
        "can_pledge": (me is not None and not is_author and is_open and live is None
                       and listing.status in TAKING_STATUSES),
        "my_live": None if live is None else {
            "id": live["id"], "amount": amount(live["amount"]),
            "withdraw_url": f"/listings/{quote(listing.id)}/pledges/{quote(live['id'])}/withdraw",
            "can_withdraw": is_open,
        },
        "my_past": [{"amount": amount(p["amount"]), "state": states.get(p["state"], p["state"]),
                     "reason": p["reason"] or ""} for p in past],
        "pledge_url": f"/listings/{quote(listing.id)}/pledge",
    }
