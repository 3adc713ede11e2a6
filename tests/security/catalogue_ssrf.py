"""Server-side request forgery: every URL an attacker can make the victim
fetch, spelled every way that reaches something internal.

Key ids are fetched while the request waits (refused: 401, unknown key);
object IRIs and Move targets are fetched by the worker (recorded as rejected).
The canary listens on loopback; no case may reach it. Redirects go through
evil.example, a "public" host, which may be hit: what it redirects to may not.
"""

from __future__ import annotations

from tests.security.attacks import SSRF, Recorded, Refused, Request, activity, attack, signed
from tests.security.forged_actors import ROGUE_KEY
from tests.security.scene import EVIL, REBIND, Scene

UNKNOWN_KEY = Refused(401, "signature-invalid", "unknown-key")

#: Ways to name the canary (or another internal host), by attack. ``{port}``
#: is the canary's port; ``{evil}`` the redirecting host's origin.
INTERNAL_URLS: dict[str, tuple[str, str]] = {
    # kind: (URL, what the worker's refusal says)
    "loopback": ("http://127.0.0.1:{port}/actor", "not a public address"),
    "localhost": ("http://localhost:{port}/actor", "local or internal"),
    "metadata": ("http://169.254.169.254/latest/meta-data/", "not a public address"),
    "metadata_google": ("http://metadata.google.internal/computeMetadata/v1/", "internal"),
    "decimal_ip": ("http://2130706433:{port}/actor", "dotted-quad"),
    "hex_ip": ("http://0x7f000001:{port}/actor", "dotted-quad"),
    "octal_ip": ("http://0177.0.0.1:{port}/actor", "dotted-quad"),
    "short_ip": ("http://127.1:{port}/actor", "dotted-quad"),
    "ipv6_loopback": ("http://[::1]:{port}/actor", "not a public address"),
    "ipv6_mapped": ("http://[::ffff:127.0.0.1]:{port}/actor", "not a public address"),
    "ipv6_mapped_hex": ("http://[::ffff:7f00:1]:{port}/actor", "not a public address"),
    "ipv6_mapped_metadata": ("http://[::ffff:169.254.169.254]/", "not a public address"),
    "nat64_private": ("http://[64:ff9b::a00:1]/actor", "not a public address"),
    "private_10": ("http://10.0.0.1/actor", "not a public address"),
    "unspecified": ("http://0.0.0.0:{port}/actor", "unspecified"),
    "dns_to_loopback": ("http://" + REBIND + ":{port}/actor", "refused: 127.0.0.1"),
    "file_scheme": ("file:///etc/passwd", "only http and https"),
    "gopher_scheme": ("gopher://127.0.0.1:{port}/_GET", "only http and https"),
    "ftp_scheme": ("ftp://127.0.0.1:{port}/actor", "only http and https"),
    "data_scheme": ("data:application/activity+json,{{}}", "only http and https"),
    "userinfo_to_loopback": ("http://attacker.example@127.0.0.1:{port}/a", "credentials"),
    "redirect_to_loopback": ("{evil}/to-canary", "redirect refused"),
    "redirect_to_metadata": ("{evil}/to-metadata", "redirect refused"),
    "redirect_to_file": ("{evil}/to-file", "redirect refused"),
}


def internal_url(scene: Scene, kind: str) -> str:
    evil = scene.evil.url("", EVIL)
    scene.evil.redirect("/to-canary", scene.canary.url("/actor"))
    scene.evil.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/")
    scene.evil.redirect("/to-file", "file:///etc/passwd")
    return INTERNAL_URLS[kind][0].format(port=scene.canary.port, evil=evil)


def _register(kind: str) -> None:
    async def by_key_id(scene: Scene) -> Request:
        key_id = internal_url(scene, kind) + "#main-key"
        forged = activity(scene, "Announce", "bob", scene.iris["carol_listing"])
        return signed(scene, "bob", forged, key_id=key_id, private_key=ROGUE_KEY)

    async def by_actor_id(scene: Scene) -> Request:
        actor = internal_url(scene, kind)
        forged = activity(scene, "Announce", actor, scene.iris["carol_listing"])
        return signed(scene, "bob", forged, key_id=actor + "#main-key", private_key=ROGUE_KEY)

    async def by_announced_object(scene: Scene) -> Request:
        target = internal_url(scene, kind)
        return signed(scene, "bob", activity(scene, "Announce", "bob", target))

    async def by_move_target(scene: Scene) -> Request:
        forged = activity(scene, "Move", "bob", scene.actors["bob"].iri,
                          target=internal_url(scene, kind))
        return signed(scene, "bob", forged)

    by_key_id.__name__ = f"ssrf_key_id_{kind}"
    by_actor_id.__name__ = f"ssrf_actor_id_{kind}"
    by_announced_object.__name__ = f"ssrf_announced_object_{kind}"
    by_move_target.__name__ = f"ssrf_move_target_{kind}"
    attack(SSRF, UNKNOWN_KEY)(by_key_id)
    # The schema wants an http(s) actor; other schemes stop there.
    url, refusal = INTERNAL_URLS[kind]
    schemeless = not url.startswith(("http://", "{evil}"))
    attack(SSRF, Refused(422, "validation-failed") if schemeless else UNKNOWN_KEY)(by_actor_id)
    attack(SSRF, Recorded("rejected", refusal))(by_announced_object)
    attack(SSRF, Recorded("rejected", refusal))(by_move_target)


for _kind in INTERNAL_URLS:
    _register(_kind)
