"""The exchange lifecycle as a state machine: pure data plus one function.

FEP-0837 stops at ``Accept``/``Reject``. Kula continues with handover, return
(rentals and loans), completion confirmed by both parties, cancellation,
no-show and dispute. The two parties are named by their place in the
negotiation, which never changes:

* ``proposer``: the author of the Proposal (its ``attributedTo``);
* ``responder``: the member who answered it with ``Offer{Agreement}``.

Negotiation. The responder's ``Offer`` opens the exchange (``offered``). The
party that did not send the pending offer may ``Accept`` it (``agreed``),
``Reject`` it (``rejected``) or answer with a counter-``Offer`` whose
``inReplyTo`` is the pending one (``countered`` when the proposer counters,
``offered`` again when the responder does). The sender of the pending offer
may withdraw it with ``Undo`` (``withdrawn``). After a rejection the responder
may try again with a fresh ``Offer``.

Execution. Once ``agreed``, either party confirms ``Handover``. For a rental
or loan that leads to ``on_loan`` and then ``Return`` to ``returned``;
otherwise to ``handed_over``. From there each party sends ``Complete``; the
exchange is ``completed`` when both have. Before handover either party may
``Cancel`` (with a reason) or report a ``NoShow``. From ``agreed`` onwards,
until completion, either party may open a ``Dispute``; a dispute ends when
both parties send ``Complete`` or one sends ``Cancel``.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from protocol.errors import ExchangeStateError
from protocol.vocab import ActivityType


class Role(StrEnum):
    """A party's place in the exchange."""

    PROPOSER = "proposer"
    RESPONDER = "responder"


class ExchangeState(StrEnum):
    """Every state an exchange can be in."""

    NEW = "new"
    OFFERED = "offered"
    COUNTERED = "countered"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    AGREED = "agreed"
    HANDED_OVER = "handed_over"
    ON_LOAN = "on_loan"
    RETURNED = "returned"
    COMPLETED_BY_PROPOSER = "completed_by_proposer"
    COMPLETED_BY_RESPONDER = "completed_by_responder"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    DISPUTED = "disputed"


S = ExchangeState
P, R = Role.PROPOSER, Role.RESPONDER
OFFER, ACCEPT, REJECT, UNDO = "Offer", "Accept", "Reject", "Undo"
HANDOVER, RETURN = ActivityType.HANDOVER.value, ActivityType.RETURN.value
COMPLETE, CANCEL = ActivityType.COMPLETE.value, ActivityType.CANCEL.value
NO_SHOW, DISPUTE = ActivityType.NO_SHOW.value, ActivityType.DISPUTE.value


def _either(target: ExchangeState) -> dict[Role, ExchangeState]:
    return {P: target, R: target}


_COMPLETE_BY_SENDER = {P: S.COMPLETED_BY_PROPOSER, R: S.COMPLETED_BY_RESPONDER}

#: (state, activity type) -> {role allowed to send it: next state}.
TRANSITIONS: MappingProxyType[tuple[ExchangeState, str], MappingProxyType[Role, ExchangeState]]
TRANSITIONS = MappingProxyType({
    key: MappingProxyType(value)
    for key, value in {
        (S.NEW, OFFER): {R: S.OFFERED},
        (S.REJECTED, OFFER): {R: S.OFFERED},
        (S.OFFERED, OFFER): {P: S.COUNTERED},
        (S.COUNTERED, OFFER): {R: S.OFFERED},
        (S.OFFERED, ACCEPT): {P: S.AGREED},
        (S.COUNTERED, ACCEPT): {R: S.AGREED},
        (S.OFFERED, REJECT): {P: S.REJECTED},
        (S.COUNTERED, REJECT): {R: S.REJECTED},
        (S.OFFERED, UNDO): {R: S.WITHDRAWN},
        (S.COUNTERED, UNDO): {P: S.WITHDRAWN},
        (S.AGREED, HANDOVER): _either(S.HANDED_OVER),
        (S.AGREED, CANCEL): _either(S.CANCELLED),
        (S.AGREED, NO_SHOW): _either(S.NO_SHOW),
        (S.AGREED, DISPUTE): _either(S.DISPUTED),
        (S.ON_LOAN, RETURN): _either(S.RETURNED),
        (S.ON_LOAN, DISPUTE): _either(S.DISPUTED),
        (S.HANDED_OVER, COMPLETE): _COMPLETE_BY_SENDER,
        (S.HANDED_OVER, DISPUTE): _either(S.DISPUTED),
        (S.RETURNED, COMPLETE): _COMPLETE_BY_SENDER,
        (S.RETURNED, DISPUTE): _either(S.DISPUTED),
        (S.COMPLETED_BY_PROPOSER, COMPLETE): {R: S.COMPLETED},
        (S.COMPLETED_BY_PROPOSER, DISPUTE): _either(S.DISPUTED),
        (S.COMPLETED_BY_RESPONDER, COMPLETE): {P: S.COMPLETED},
        (S.COMPLETED_BY_RESPONDER, DISPUTE): _either(S.DISPUTED),
        (S.NO_SHOW, DISPUTE): _either(S.DISPUTED),
        (S.DISPUTED, COMPLETE): _COMPLETE_BY_SENDER,
        (S.DISPUTED, CANCEL): _either(S.CANCELLED),
    }.items()
})

#: A returnable exchange (rent, lend) leaves ``agreed`` through this state instead.
RETURNABLE_HANDOVER_STATE = S.ON_LOAN

#: Every activity type the machine knows.
EXCHANGE_ACTIVITY_TYPES: frozenset[str] = frozenset(activity for _, activity in TRANSITIONS)

#: States that accept no further activity.
TERMINAL_STATES: frozenset[ExchangeState] = frozenset(
    state for state in S if not any(source == state for source, _ in TRANSITIONS)
)


def _check_graph() -> None:
    # Like a Stator graph, the table is checked once, when the module loads:
    # every state must be reachable from NEW, so no state is a typo.
    reachable, frontier = {S.NEW}, [S.NEW]
    while frontier:
        state = frontier.pop()
        for (source, activity), targets in TRANSITIONS.items():
            if source != state:
                continue
            nexts = set(targets.values())
            if (source, activity) == (S.AGREED, HANDOVER):
                nexts.add(RETURNABLE_HANDOVER_STATE)
            for target in nexts - reachable:
                reachable.add(target)
                frontier.append(target)
    unreachable = set(S) - reachable
    if unreachable:
        raise RuntimeError(f"exchange states not reachable: {sorted(unreachable)}")


_check_graph()


def allowed_activities(state: ExchangeState | str, role: Role | str) -> frozenset[str]:
    """Return the activity types ``role`` may send while the exchange is in ``state``."""
    state, role = ExchangeState(state), Role(role)
    return frozenset(
        activity
        for (source, activity), targets in TRANSITIONS.items()
        if source == state and role in targets
    )


def next_state(
    state: ExchangeState | str,
    activity_type: str,
    role: Role | str,
    *,
    returnable: bool = False,
) -> ExchangeState:
    """Return the state an exchange moves to when ``role`` sends ``activity_type``.

    ``returnable`` is true for rentals and loans: their ``Handover`` leads to
    ``on_loan`` (and then ``Return``) rather than ``handed_over``.

    Raises :class:`~protocol.errors.ExchangeStateError` when the activity is
    unknown, out of order, or sent by the party who may not send it; its
    ``detail`` says which, in words a member can read.
    """
    try:
        current, sender = ExchangeState(state), Role(role)
    except ValueError as exc:
        raise ExchangeStateError(
            str(exc), state=str(state), activity_type=activity_type, role=str(role)
        ) from None

    def refuse(detail: str) -> ExchangeStateError:
        return ExchangeStateError(
            detail, state=current.value, activity_type=activity_type, role=sender.value
        )

    if activity_type not in EXCHANGE_ACTIVITY_TYPES:
        raise refuse(f"{activity_type!r} is not an exchange activity")
    if current in TERMINAL_STATES:
        raise refuse(f"the exchange is {current.value}: it accepts no further activity")
    targets = TRANSITIONS.get((current, activity_type))
    if targets is None:
        allowed = sorted(a for (s, a) in TRANSITIONS if s == current)
        raise refuse(
            f"{activity_type} is not allowed while the exchange is {current.value}"
            f" (expected one of: {', '.join(allowed)})"
        )
    if sender not in targets:
        if activity_type == COMPLETE and current in _COMPLETE_BY_SENDER.values():
            raise refuse(
                f"the {sender.value} has already confirmed completion;"
                " waiting for the other party"
            )
        others = " or ".join(r.value for r in targets)
        raise refuse(
            f"only the {others} may send {activity_type} while the exchange is {current.value}"
        )
    if returnable and (current, activity_type) == (S.AGREED, HANDOVER):
        return RETURNABLE_HANDOVER_STATE
    return targets[sender]
