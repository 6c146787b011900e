"""Topic rules: a FeedbackTopic's keywords found in a text's words.

Keywords are separated by "/", commas (both widths), "、" or new lines. A Chinese keyword
matches whole jieba words or the inside of one ("慢" in "太慢", "理财" in "理财产品") but never
across a word boundary ("费用" is not in "消费|用户"): that is what the segmentation (and the
user dictionary) is for. A Latin keyword matches whole words, several as a phrase ("wait
time"), the last one with an English ending ("fees", "crashed"). Case is ignored.
"""

import re
from dataclasses import dataclass

from workflows.feedback.reading.tokens import Tokens
from workflows.models import FeedbackTopic

_SEPARATORS = re.compile(r"[/,，、;；\r\n]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class TopicRule:
    topic_id: int
    keywords: tuple[tuple[str, bool], ...]  # (keyword, whole words only)


def topic_keywords(text: str) -> list[str]:
    """A topic's keywords, lower-cased, in order, each once."""
    keywords = (" ".join(part.lower().split()) for part in _SEPARATORS.split(text or ""))
    return list(dict.fromkeys(keyword for keyword in keywords if keyword))


def topic_rules() -> list[TopicRule]:
    """The active topics' rules (one query)."""
    topics = (
        FeedbackTopic.objects.filter(is_active=True).order_by("id").values_list("id", "keywords")
    )
    return [
        TopicRule(
            topic_id=topic_id,
            keywords=tuple(
                (keyword, not _CJK.search(keyword)) for keyword in topic_keywords(keywords)
            ),
        )
        for topic_id, keywords in topics
    ]


def _contains(tokens: Tokens, keyword: str, whole_words: bool) -> bool:
    start = tokens.text.find(keyword)
    while start >= 0:
        if tokens.keyword_at(start, start + len(keyword), whole_words=whole_words):
            return True
        start = tokens.text.find(keyword, start + 1)
    return False


def topics_match(tokens: Tokens, rules: list[TopicRule]) -> list[int]:
    """The ids of the topics whose keywords the text contains."""
    return [
        rule.topic_id
        for rule in rules
        if any(_contains(tokens, keyword, whole) for keyword, whole in rule.keywords)
    ]
