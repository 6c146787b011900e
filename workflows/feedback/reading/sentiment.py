"""A sentiment score from -1 (negative) to 1 (positive), offline.

Chinese: snownlp's naive Bayes model (its `sentiment.marshal` data, trained on shopping
reviews) over jieba's words, as 2p - 1, weighed with our domain lexicon (lexicon.py), which
decides whenever it finds something: snownlp alone scored a clearly positive bank review
0.41 and missed complaints (shared/LIBRARIES.md). snownlp's data is read directly: importing
the package loads its own segmenter and tagger too (two seconds) and its `Sentiment.classify`
would segment again with them; the arithmetic below is its `Bayes.classify`, two classes.

English: VADER's compound score (its lexicon ships in the wheel), with our domain words.
"""

import gzip
import importlib.util
import marshal
import math
import threading
from pathlib import Path
from typing import Any

from workflows.feedback.reading.language import CHINESE
from workflows.feedback.reading.lexicon import (
    CHINESE_CONTRAST,
    CHINESE_FILLERS,
    CHINESE_LEXICON,
    CHINESE_NEGATORS,
    CHINESE_STRONGER,
    CHINESE_WEAKER,
    ENGLISH_LEXICON,
    NEGATION,
)

_lock = threading.Lock()
_models: dict[str, Any] = {}
_LONGEST_ENTRY = 4  # jieba words in the longest lexicon entry ("等了很久")
# Once the lexicon finds something, it outweighs the Bayes model three to one.
LEXICON_SHARE = 0.75
# Without a lexicon word the Bayes model alone speaks, at half voice.
BAYES_ALONE_SHARE = 0.5


class BayesModel:
    """snownlp's sentiment model: p(positive | words) = sigmoid(prior + sum of word terms)."""

    def __init__(self, root: Path) -> None:
        # The installed package's own data file, as snownlp's Bayes.load reads it.
        raw = (root / "sentiment" / "sentiment.marshal.3").read_bytes()
        try:
            data = marshal.loads(gzip.decompress(raw))  # noqa: S302
        except OSError:  # not gzipped: Bayes.load falls back the same way
            data = marshal.loads(raw)  # noqa: S302
        positive, negative = data["d"]["pos"], data["d"]["neg"]
        log_positive, log_negative = math.log(positive["total"]), math.log(negative["total"])
        self.prior = log_positive - log_negative
        self.unknown = (math.log(positive["none"]) - log_positive) - (
            math.log(negative["none"]) - log_negative
        )
        self.terms = {
            word: (math.log(positive["d"].get(word, positive["none"])) - log_positive)
            - (math.log(negative["d"].get(word, negative["none"])) - log_negative)
            for word in positive["d"].keys() | negative["d"].keys()
        }
        stopwords = (root / "normal" / "stopwords.txt").read_text(encoding="utf-8")
        self.stopwords = frozenset(line.strip() for line in stopwords.splitlines())

    def positive_probability(self, words: list[str]) -> float:
        terms, unknown = self.terms, self.unknown
        x = self.prior + sum(
            terms.get(word, unknown) for word in words if word not in self.stopwords
        )
        if x >= 0:
            return 1 / (1 + math.exp(-x))
        return math.exp(x) / (1 + math.exp(x))


def _bayes() -> BayesModel:
    if "bayes" not in _models:
        with _lock:
            if "bayes" not in _models:
                spec = importlib.util.find_spec("snownlp")  # finds it without importing it
                if spec is None or not spec.submodule_search_locations:
                    raise ImportError("snownlp is not installed")
                _models["bayes"] = BayesModel(Path(next(iter(spec.submodule_search_locations))))
    return _models["bayes"]


def _vader():
    if "vader" not in _models:
        with _lock:
            if "vader" not in _models:
                from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                analyzer = SentimentIntensityAnalyzer()
                analyzer.lexicon.update(ENGLISH_LEXICON)
                _models["vader"] = analyzer
    return _models["vader"]


_PREFIXES = frozenset(entry[:size] for entry in CHINESE_LEXICON for size in range(1, len(entry)))


def _entry_at(words: list[str], start: int) -> tuple[float, int] | None:
    """The longest lexicon entry starting at words[start]: its weight and its length."""
    found, run = None, ""
    for length in range(1, min(_LONGEST_ENTRY, len(words) - start) + 1):
        run += words[start + length - 1]
        weight = CHINESE_LEXICON.get(run)
        if weight is not None:
            found = weight, length
        if run not in _PREFIXES:
            break
    return found


def _modified(weight: float, words: list[str], start: int) -> float:
    """The entry's weight after the degree words and negator just before it."""
    position, stronger, weaker = start - 1, False, False
    while position >= 0 and start - position <= 3:
        word = words[position]
        if word in CHINESE_NEGATORS:
            weight *= NEGATION
            break
        if word in CHINESE_STRONGER and not stronger:
            weight, stronger = weight * 1.3, True
        elif word in CHINESE_WEAKER and not weaker:
            weight, weaker = weight * 0.7, True
        elif word not in CHINESE_FILLERS:
            break
        position -= 1
    return weight


def chinese_lexicon_sum(words: list[str]) -> tuple[float, int]:
    """The lexicon's weights over the words (negation, degree and "但是" applied) and how
    many entries it found."""
    words = [word for word in words if word.strip()]
    found: list[tuple[int, float]] = []
    last_contrast, position = -1, 0
    while position < len(words):
        entry = _entry_at(words, position)
        if entry is None:
            if words[position] in CHINESE_CONTRAST:
                last_contrast = position
            position += 1
            continue
        weight, length = entry
        found.append((position, _modified(weight, words, position)))
        position += length
    if last_contrast < 0:
        return sum(weight for _, weight in found), len(found)
    total = sum(weight * (1.5 if at > last_contrast else 0.5) for at, weight in found)
    return total, len(found)


def _squash(total: float) -> float:
    return total / math.sqrt(total * total + 4)


def chinese_sentiment(words: list[str]) -> float:
    bayes = 2 * _bayes().positive_probability(words) - 1
    total, found = chinese_lexicon_sum(words)
    if not found:
        return BAYES_ALONE_SHARE * bayes
    return LEXICON_SHARE * _squash(total) + (1 - LEXICON_SHARE) * bayes


def english_sentiment(text: str) -> float:
    return _vader().polarity_scores(text)["compound"]


def sentiment_score(text: str, language: str, *, words: list[str] | None = None) -> float:
    """From -1 to 1. `words`: jieba's words of a Chinese text, when the caller has them."""
    if language == CHINESE:
        if words is None:
            from workflows.feedback.reading.segmentation import words_cut

            words = words_cut(text.lower())
        score = chinese_sentiment(words)
    else:
        score = english_sentiment(text)
    return max(-1.0, min(1.0, score))
