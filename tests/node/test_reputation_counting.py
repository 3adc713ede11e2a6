"""Which held attestations reputation counts (SPEC §11.3): one current version
per issuer and agreement, and none once its issuer withdrew it."""

from __future__ import annotations

from node.services.reputation import counted, current_only
from node.storage.records import Attestation

ISSUER = "https://a.example/users/alice"
SUBJECT = "https://b.example/users/bob"
AGREEMENT = "https://a.example/agreements/1"


def version(name: str, valid_from: str, *, supersedes: str | None = None,
            withdrawn: bool = False) -> Attestation:
    return Attestation(
        iri=f"https://a.example/attestations/{name}", issuer_iri=ISSUER, subject_iri=SUBJECT,
        agreement_iri=AGREEMENT, issuer_role="provider", subject_role="receiver", rating=5,
        comment=None, valid_from=valid_from,
        supersedes=None if supersedes is None else f"https://a.example/attestations/{supersedes}",
        document={}, received_at=valid_from,
        withdrawn_at="2026-03-01T00:00:00Z" if withdrawn else None,
    )


def test_the_newest_revision_counts() -> None:
    held = [version("v1", "2026-01-01T00:00:00Z"),
            version("v2", "2026-02-01T00:00:00Z", supersedes="v1")]
    assert [record.iri.rsplit("/", 1)[1] for record in counted(held)] == ["v2"]


def test_a_withdrawn_revision_does_not_let_the_version_it_replaced_count_again() -> None:
    held = [version("v1", "2026-01-01T00:00:00Z"),
            version("v2", "2026-02-01T00:00:00Z", supersedes="v1", withdrawn=True)]
    assert counted(held) == []
    # Pages still see the withdrawn revision as the current one, marked withdrawn.
    assert [record.iri.rsplit("/", 1)[1] for record in current_only(held)] == ["v2"]


def test_a_withdrawn_single_version_does_not_count() -> None:
    assert counted([version("v1", "2026-01-01T00:00:00Z", withdrawn=True)]) == []
