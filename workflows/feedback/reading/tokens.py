"""A text cut into words, with where each word starts and ends, for keyword matching.

Chinese text is cut by jieba (every character belongs to a word, punctuation included);
English text by a simple regex (letters, digits and inner apostrophes). Both are lower-cased.
"""

import re
from dataclasses import dataclass

from workflows.feedback.reading.language import CHINESE
from workflows.feedback.reading.segmentation import words_cut

_ENGLISH_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")
# "fees", "crashed", "waiting", "charged" contain the keywords "fee", "crash", "wait", "charge".
ENGLISH_ENDINGS = frozenset({"s", "es", "ed", "ing"})


@dataclass(frozen=True)
class Tokens:
    text: str  # lower-cased, whitespace runs made single spaces
    words: list[str]
    word_at: list[int]  # per character: the index of its word, -1 between words
    starts: list[int]  # per word: its first character
    ends: list[int]  # per word: one past its last character

    def keyword_at(self, start: int, end: int, *, whole_words: bool) -> bool:
        """Whether text[start:end] is made of whole words, or (`whole_words` False: Chinese
        keywords) lies inside one word: "慢" is in "太慢", "费用" is not in "消费|用户".
        A Latin keyword's last word may carry an English ending."""
        first, last = self.word_at[start], self.word_at[end - 1]
        if first < 0 or last < 0:
            return False
        if not whole_words and first == last:
            return True
        if self.starts[first] != start:
            return False
        rest = self.text[end : self.ends[last]]
        if rest == "":
            return True
        return whole_words and (
            rest in ENGLISH_ENDINGS or (rest == "d" and self.text[end - 1] == "e")
        )


def tokens_of(text: str, language: str) -> Tokens:
    text = " ".join(text.lower().split())
    if language == CHINESE:
        words = words_cut(text)
        starts, ends, position = [], [], 0
        for word in words:
            starts.append(position)
            position += len(word)
            ends.append(position)
    else:
        matches = list(_ENGLISH_WORD.finditer(text))
        words = [match.group() for match in matches]
        starts = [match.start() for match in matches]
        ends = [match.end() for match in matches]
    word_at = [-1] * len(text)
    for index, (start, end) in enumerate(zip(starts, ends, strict=True)):
        for position in range(start, end):
            word_at[position] = index
    return Tokens(text=text, words=words, word_at=word_at, starts=starts, ends=ends)
