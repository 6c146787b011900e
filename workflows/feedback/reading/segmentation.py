"""jieba, with the user dictionary from DictionaryWord.

jieba's own dictionary takes about a second to load: it is loaded once per process, lazily,
into a Tokenizer of our own (the module-level one is never touched), with its cache file in
VAR_DIR rather than /tmp. The user dictionary is laid over a copy of it, and laid again when
the words change: `dictionary_refresh` compares a stamp (the count and the latest change of
the words, one query) and the batch job calls it once per batch.
"""

import logging
import threading
import warnings
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, Max

from workflows.models import DictionaryWord

_lock = threading.Lock()
_state: dict[str, Any] = {"base": None, "tokenizer": None, "stamp": None}


def _jieba():
    with warnings.catch_warnings():
        # jieba imports pkg_resources (shared/LIBRARIES.md, pitfall 11).
        warnings.simplefilter("ignore", DeprecationWarning)
        import jieba
    jieba.setLogLevel(logging.WARNING)
    return jieba


def _base_tokenizer():
    """jieba's dictionary, loaded once (from the cache file in VAR_DIR after the first time)."""
    if _state["base"] is None:
        jieba = _jieba()
        cache_dir = Path(settings.VAR_DIR) / "jieba"
        cache_dir.mkdir(parents=True, exist_ok=True)
        tokenizer = jieba.Tokenizer()
        tokenizer.tmp_dir = str(cache_dir)
        tokenizer.cache_file = "jieba.cache"
        tokenizer.initialize()
        _state["base"] = tokenizer
    return _state["base"]


def _with_words(words: list[tuple[str, int | None]]):
    """A tokenizer over a copy of the base one's frequencies, with the user's words added.
    Copying is cheaper than loading again, and `del_word` would leak: it changes jieba's
    module-wide HMM."""
    base = _base_tokenizer()
    tokenizer = _jieba().Tokenizer()
    tokenizer.tmp_dir, tokenizer.cache_file = base.tmp_dir, base.cache_file
    tokenizer.FREQ, tokenizer.total = dict(base.FREQ), base.total
    tokenizer.initialized = True
    for word, frequency in words:
        tokenizer.add_word(word, freq=frequency)
    return tokenizer


def dictionary_stamp() -> tuple:
    """What changes whenever a word is added, edited or deleted."""
    found = DictionaryWord.objects.aggregate(count=Count("id"), changed_at=Max("updated_at"))
    return found["count"], found["changed_at"]


def dictionary_refresh() -> None:
    """One query; the words themselves are read (a second query) only when they changed."""
    stamp = dictionary_stamp()
    if stamp == _state["stamp"] and _state["tokenizer"] is not None:
        return
    with _lock:
        words = list(DictionaryWord.objects.order_by("word").values_list("word", "frequency"))
        _state["tokenizer"] = _with_words(words)
        _state["stamp"] = stamp


def tokenizer_get():
    """The current tokenizer; the first call reads the dictionary words."""
    if _state["tokenizer"] is None:
        dictionary_refresh()
    return _state["tokenizer"]


def words_cut(text: str) -> list[str]:
    """jieba's words, punctuation and spaces included: joined, they give the text back."""
    return tokenizer_get().lcut(text)


def segmentation_forget() -> None:
    """Tests: lay the dictionary again on the next use (the base stays loaded)."""
    _state["tokenizer"], _state["stamp"] = None, None
