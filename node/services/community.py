"""The community's own settings: name, description, registration mode, rules
and contact. ``kula.toml`` gives the defaults; what an operator changes in the
browser or through the API is stored in the database and wins, so every
process of the node sees a change at once and no file needs editing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from node.errors import ValidationFailed
from node.services.context import NodeContext
from node.settings import REGISTRATION_MODES
from node.storage.base import Session

#: Longest value of each setting (api-community-update-request has the same bounds).
LIMITS = {"name": 100, "description": 1000, "rules": 10_000, "contact": 300}
FIELDS = ("name", "description", "registration", "rules", "contact")


@dataclass(frozen=True)
class CommunityProfile:
    name: str
    description: str
    #: ``open``, ``invite`` or ``closed`` (node.settings.REGISTRATION_MODES).
    registration: str
    #: The community's rules, plain text shown on the About page.
    rules: str
    #: How to reach the operators (an address or a URL), plain text.
    contact: str
    #: Settings changed from the configuration file's values.
    overridden: frozenset[str] = field(default_factory=frozenset)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "description": self.description,
            "registration": self.registration, "rules": self.rules, "contact": self.contact,
            "overridden": sorted(self.overridden),
        }


def _profile(ctx: NodeContext, overrides: dict[str, str]) -> CommunityProfile:
    settings = ctx.settings
    defaults = {"name": settings.name, "description": settings.description,
                "registration": settings.registration, "rules": "", "contact": ""}
    known = {key: value for key, value in overrides.items() if key in defaults}
    # A stored mode that is no longer valid (edited by hand) falls back to the file's.
    if known.get("registration") not in (None, *REGISTRATION_MODES):
        known.pop("registration")
    return CommunityProfile(**{**defaults, **known}, overridden=frozenset(known))


async def community_profile(ctx: NodeContext, session: Session | None = None) -> CommunityProfile:
    """The community's settings as they stand (``session``: read within it)."""
    if session is not None:
        return _profile(ctx, await session.community_overrides())
    async with ctx.storage.read() as own:
        return _profile(ctx, await own.community_overrides())


def check_changes(changes: dict[str, str | None]) -> dict[str, str | None]:
    """Trimmed values within bounds; None (back to the file's value) is kept."""
    errors = []
    checked: dict[str, str | None] = {}
    for name, value in changes.items():
        if name not in FIELDS:
            errors.append({"pointer": f"/{name}", "reason": "unknown setting"})
            continue
        if value is None:
            checked[name] = None
            continue
        value = value.strip()
        if name == "registration" and value not in REGISTRATION_MODES:
            errors.append({"pointer": "/registration",
                           "reason": f"one of {', '.join(REGISTRATION_MODES)}"})
        elif name == "name" and not value:
            errors.append({"pointer": "/name", "reason": "a community needs a name"})
        elif len(value) > LIMITS.get(name, 0) and name != "registration":
            errors.append({"pointer": f"/{name}", "reason": f"at most {LIMITS[name]} characters"})
        checked[name] = value
    if errors:
        raise ValidationFailed("some community settings are not valid", errors=errors)
    return checked


async def update_community(
    ctx: NodeContext, changes: dict[str, str | None]
) -> CommunityProfile:
    """Change some settings (None: back to the configuration file's value).
    When the name or description changes, the community Group's followers are
    sent an ``Update`` of it, so partner communities show the new one."""
    # Imported here: the actor documents read this module's profile.
    from node.services.community_actor import publish_group_update

    checked = check_changes(changes)
    async with ctx.storage.transaction() as tx:
        before = await community_profile(ctx, tx)
        for name, value in checked.items():
            await tx.set_community_override(name, value)
        after = await community_profile(ctx, tx)
        if (before.name, before.description) != (after.name, after.description):
            await publish_group_update(ctx, tx, after)
    return after
