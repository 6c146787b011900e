"""Topic rules: a FeedbackTopic's keywords found in a text's words.

Keywords are separated by "/", commas (both widths), "、" or new lines. A keyword matches a
run of whole words ("等了" is 等|了, "wait time" two English words); a Chinese keyword also
matches inside one word ("慢" in "太慢", "理财" in "理财产品"), but never across a word
boundary ("费用" is not in "消费|用户"): that is what the segmentation (and the user
dictionary) is for. An English keyword's last word may carry an ending ("fees", "crashed",
"waiting", "charged"). Case is ignored.

The words are looked up in a dictionary of keywords rather than each keyword searched in the
text: a few lookups per word, however many topics there are.
"""

import re
from dataclasses import dataclass, field

from workflows.feedback.reading.tokens import Tokens
from workflows.models import FeedbackTopic

_SEPARATORS = re.compile(r"[/,，、;；\r\n]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_ENDINGS = ("ing", "es", "ed", "s")
_LONGEST_RUN = 6  # words in a keyword phrase, spaces included ("wait", " ", "time")


@dataclass(frozen=True)
class TopicRules:
    """Keyword -> the ids of the topics it belongs to, Chinese and Latin apart."""

    chinese: dict[str, frozenset[int]] = field(default_factory=dict)
    latin: dict[str, frozenset[int]] = field(default_factory=dict)
    longest_chinese: int = 0
    prefixes: frozenset[str] = frozenset()  # of every keyword: worth reading one word more


def topic_keywords(text: str) -> list[str]:
    """A topic's keywords, lower-cased, in order, each once."""
    keywords = (" ".join(part.lower().split()) for part in _SEPARATORS.split(text or ""))
    return list(dict.fromkeys(keyword for keyword in keywords if keyword))


def topic_rules_of(topics: list[tuple[int, str]]) -> TopicRules:
    """Rules from (topic id, keywords) pairs."""
    chinese: dict[str, set[int]] = {}
    latin: dict[str, set[int]] = {}
    for topic_id, keywords in topics:
        for keyword in topic_keywords(keywords):
            kind = chinese if _CJK.search(keyword) else latin
            kind.setdefault(keyword, set()).add(topic_id)
    return TopicRules(
        chinese={keyword: frozenset(ids) for keyword, ids in chinese.items()},
        latin={keyword: frozenset(ids) for keyword, ids in latin.items()},
        longest_chinese=max(map(len, chinese), default=0),
        prefixes=frozenset(
            keyword[:size] for keyword in (*chinese, *latin) for size in range(1, len(keyword))
        ),
    )


def topic_rules() -> TopicRules:
    """The active topics' rules (one query)."""
    topics = FeedbackTopic.objects.filter(is_active=True).order_by("id")
    return topic_rules_of(list(topics.values_list("id", "keywords")))


def _stems(run: str) -> list[str]:
    """What an English keyword may be, the run ending in an ending: "charged" -> "charg",
    "charge"."""
    stems = [run[: -len(ending)] for ending in _ENDINGS if run.endswith(ending)]
    if run.endswith("ed"):
        stems.append(run[:-1])
    return stems


def topics_match(tokens: Tokens, rules: TopicRules) -> list[int]:
    """The ids of the topics whose keywords the text contains, in id order."""
    found: set[int] = set()
    chinese, latin, prefixes, text = rules.chinese, rules.latin, rules.prefixes, tokens.text
    words, starts, ends = tokens.words, tokens.starts, tokens.ends
    count = len(words)
    for first in range(count):
        start = starts[first]
        for last in range(first, min(first + _LONGEST_RUN, count)):
            run = text[start : ends[last]]
            ids = chinese.get(run) or latin.get(run)
            if ids:
                found |= ids
            if latin and len(words[last]) > 3 and words[last].isascii():
                for stem in _stems(run):
                    ids = latin.get(stem)
                    if ids:
                        found |= ids
            if run not in prefixes:
                break
        word = words[first]
        if chinese and len(word) > 1 and _CJK.search(word):
            longest = min(len(word) - 1, rules.longest_chinese)
            for size in range(1, longest + 1):
                for offset in range(len(word) - size + 1):
                    ids = chinese.get(word[offset : offset + size])
                    if ids:
                        found |= ids
    return sorted(found)
