"""The Simplified Chinese catalog: complete, placeholders intact, compiled, and in use."""

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import django
import polib
import pytest
from django.utils import translation

from crm.models import Customer

ROOT = Path(__file__).resolve().parent.parent
LC_MESSAGES = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"

# The same folders the makemessages command of the README/brief leaves out.
NOT_SOURCE = (".*", ".venv", "var", "bench", "tests", "locale", "__pycache__", "*.egg-info")

# %(name)s, %s and %d (a literal %% is not one), and {{ var }} of a blocktranslate.
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\{\s*[\w.]+\s*\}\}")


def _catalog() -> polib.POFile:
    return polib.pofile(str(PO_PATH))


def _entries() -> list[polib.POEntry]:
    return [entry for entry in _catalog() if not entry.obsolete]


def _placeholders(text: str) -> Counter:
    return Counter(PLACEHOLDER.findall(text.replace("%%", "")))


def _key(entry: polib.POEntry) -> tuple[str | None, str, str]:
    return (entry.msgctxt, entry.msgid, entry.msgid_plural)


def test_catalog_header_is_simplified_chinese():
    metadata = _catalog().metadata
    assert metadata["Language"] == "zh_Hans"
    assert metadata["Plural-Forms"] == "nplurals=1; plural=0;"
    assert "charset=UTF-8" in metadata["Content-Type"]


def test_every_entry_is_translated_and_not_fuzzy():
    entries = _entries()
    assert entries
    untranslated = [entry.msgid for entry in entries if not entry.translated()]
    fuzzy = [entry.msgid for entry in entries if "fuzzy" in entry.flags]
    assert untranslated == []
    assert fuzzy == []


def test_translations_keep_the_placeholders():
    wrong = []
    for entry in _entries():
        if entry.msgid_plural:
            expected = _placeholders(entry.msgid_plural)
            translations = list(entry.msgstr_plural.values())
        else:
            expected = _placeholders(entry.msgid)
            translations = [entry.msgstr]
        wrong += [
            (entry.msgid, msgstr) for msgstr in translations if _placeholders(msgstr) != expected
        ]
    assert wrong == []


def test_compiled_catalog_matches_the_po_file():
    """The .mo is committed for hosts without msgfmt: it must be compiled from this .po."""
    compiled = {
        (entry.msgctxt, entry.msgid): entry.msgstr or dict(entry.msgstr_plural)
        for entry in polib.mofile(str(MO_PATH))
        if entry.msgid
    }
    source = {
        (entry.msgctxt, entry.msgid): entry.msgstr or dict(entry.msgstr_plural)
        for entry in _entries()
    }
    assert compiled == source


def test_catalog_does_not_change_the_admin_translations():
    """LOCALE_PATHS wins over Django's catalogs: a msgid both have is the admin's word too.

    "Home" is both a transaction category and the admin's breadcrumb, so it stays 首页 until the
    category gets a msgctxt. "Summary" (of an interaction; the admin's delete page says 概览)
    reads well as 摘要 in both places.
    """
    same_meaning_differs = {"Summary"}
    django_dir = Path(django.__file__).resolve().parent
    django_catalogs = [
        django_dir / "conf" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo",
        django_dir / "contrib" / "admin" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo",
    ]
    ours = {entry.msgid: entry.msgstr for entry in _entries() if not entry.msgctxt}
    changed = [
        (entry.msgid, ours[entry.msgid], entry.msgstr)
        for catalog in django_catalogs
        for entry in polib.mofile(str(catalog))
        if not entry.msgctxt
        and entry.msgid in ours
        and entry.msgid not in same_meaning_differs
        and ours[entry.msgid] != entry.msgstr
    ]
    assert changed == []


def test_model_names_are_shown_in_chinese():
    with translation.override("zh-hans"):
        assert str(Customer._meta.verbose_name) == "客户"
        assert str(Customer._meta.get_field("owner").verbose_name) == "客户经理"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_catalog_has_every_source_string(tmp_path):
    """makemessages on a copy of the sources finds no string the committed catalog lacks.

    The copy has its own settings, so LOCALE_PATHS points into it and the repository's catalog
    is never rewritten.
    """
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_DEBUG": "1",
        "VAR_DIR": str(tmp_path / "var"),
    }
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    fresh = polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    in_sources = {_key(entry) for entry in fresh if not entry.obsolete}
    in_catalog = {_key(entry) for entry in _entries()}
    missing_from_catalog = sorted(in_sources - in_catalog, key=str)
    no_longer_in_sources = sorted(in_catalog - in_sources, key=str)
    assert missing_from_catalog == [], "run makemessages, translate, then compilemessages"
    assert no_longer_in_sources == [], "run makemessages to drop strings the code no longer has"
