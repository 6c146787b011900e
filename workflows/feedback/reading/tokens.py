"""A text cut into words, with where each word starts and ends, for keyword matching.

Chinese text is cut by jieba (every character belongs to a word, punctuation included);
English text by a simple regex (letters, digits and inner apostrophes). Both are lower-cased.
"""

import re
from dataclasses import dataclass

from workflows.feedback.reading.language import CHINESE
from workflows.feedback.reading.segmentation import words_cut

_ENGLISH_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")


@dataclass(frozen=True)
class Tokens:
    text: str  # lower-cased, whitespace runs made single spaces
    words: list[str]
    starts: list[int]  # per word: its first character
    ends: list[int]  # per word: one past its last character


def tokens_of(text: str, language: str) -> Tokens:
    text = " ".join(text.lower().split())
    if language == CHINESE:
        words = words_cut(text)
        ends, position = [], 0
        for word in words:
            position += len(word)
            ends.append(position)
        starts = [end - len(word) for word, end in zip(words, ends, strict=True)]
    else:
        matches = list(_ENGLISH_WORD.finditer(text))
        words = [match.group() for match in matches]
        starts = [match.start() for match in matches]
        ends = [match.end() for match in matches]
    return Tokens(text=text, words=words, starts=starts, ends=ends)
