"""The pages are ready for translation: every message is in the catalogue
template, and a browser's Accept-Language picks among installed catalogues."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from node.web.pages.site import DEFAULT_LOCALE, LOCALE_DIR, negotiate_locale

ROOT = Path(__file__).resolve().parents[2]


def _extracted_messages() -> set[str]:
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT / "node" / "web"), method_map, options_map
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_catalogue_template_holds_every_message_of_the_pages() -> None:
    with open(LOCALE_DIR / "kula.pot", "rb") as template:
        catalogue = {message.id if isinstance(message.id, str) else message.id[0]
                     for message in read_po(template) if message.id}
    extracted = _extracted_messages()
    assert len(extracted) > 20
    missing = sorted(extracted - catalogue)
    assert not missing, f"run `make messages` to add {missing[:5]}..."


def test_accept_language_falls_back_to_english() -> None:
    assert negotiate_locale("") == DEFAULT_LOCALE
    assert negotiate_locale("xx-YY, zz;q=0.5") == DEFAULT_LOCALE
    assert negotiate_locale("fr;q=0.2, en-GB;q=0.9") == "en"
    assert negotiate_locale("de;q=abc, en") == "en"
