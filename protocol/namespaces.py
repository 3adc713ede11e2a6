"""IRIs of the JSON-LD contexts and vocabularies Kula speaks.

Kept in one place so builders, the offline document loader, schemas and the
node agree on every spelling.
"""

from __future__ import annotations

ACTIVITYSTREAMS_CONTEXT = "https://www.w3.org/ns/activitystreams"
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
SECURITY_V1_CONTEXT = "https://w3id.org/security/v1"
CREDENTIALS_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
#: Kula's own terms. Receivers never fetch it: the protocol package ships it,
#: and nodes also serve a copy at ``/ns/v1`` for humans and other tools.
KULA_CONTEXT = "https://kula.community/ns/v1"
KULA_NAMESPACE = "https://kula.community/ns#"
VALUEFLOWS_NAMESPACE = "https://w3id.org/valueflows/ont/vf#"
OM2_NAMESPACE = "http://www.ontology-of-units-of-measure.org/resource/om-2/"

AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

#: The ``@context`` every ActivityPub document Kula emits carries, in this order.
KULA_AP_CONTEXT: list[str] = [
    ACTIVITYSTREAMS_CONTEXT,
    DATA_INTEGRITY_CONTEXT,
    KULA_CONTEXT,
]
#: The ``@context`` of an actor document (adds Multikey and the RSA key terms).
KULA_ACTOR_CONTEXT: list[str] = [
    ACTIVITYSTREAMS_CONTEXT,
    SECURITY_V1_CONTEXT,
    DATA_INTEGRITY_CONTEXT,
    MULTIKEY_CONTEXT,
    KULA_CONTEXT,
]
#: The ``@context`` of a reputation attestation (a W3C Verifiable Credential 2.0).
KULA_CREDENTIAL_CONTEXT: list[str] = [
    CREDENTIALS_V2_CONTEXT,
    KULA_CONTEXT,
]
