"""Money in listings: which IRI names a currency.

FEP-0837 writes a price as a reciprocal ``transfer`` Intent whose
``resourceConformsTo`` names the currency and whose quantity (unit ``one``)
is the amount. Kula names currencies with FIBO's ISO 4217 code IRIs, which
exist for every ISO 4217 code, and also reads the Wikidata IRIs of the
FEP's own example.
"""

from __future__ import annotations

import re

ISO4217_BASE = "https://spec.edmcouncil.org/fibo/ontology/FND/Accounting/ISO4217-CurrencyCodes/"
#: Wikidata items other servers use for the most common currencies.
_WIKIDATA_CURRENCIES = {
    "https://www.wikidata.org/wiki/Q4916": "EUR",
    "https://www.wikidata.org/wiki/Q4917": "USD",
    "https://www.wikidata.org/wiki/Q25224": "GBP",
}
#: The OM2 unit of a plain count, used for money amounts as FEP-0837 does.
COUNT_UNIT = "one"
_CODE = re.compile(r"^[A-Z]{3}$")


def currency_iri(code: str) -> str:
    """The IRI for an ISO 4217 code such as ``EUR``."""
    if not _CODE.fullmatch(code):
        raise ValueError(f"not an ISO 4217 currency code: {code!r}")
    return ISO4217_BASE + code


def currency_code(iri: str) -> str | None:
    """The ISO 4217 code an IRI names, or None when it names no known currency."""
    if iri.startswith(ISO4217_BASE):
        code = iri[len(ISO4217_BASE):]
        return code if _CODE.fullmatch(code) else None
    return _WIKIDATA_CURRENCIES.get(iri)
