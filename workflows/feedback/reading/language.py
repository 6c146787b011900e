"""Which language a free-text answer is in: Chinese when a fair share of its letters are
Chinese characters, else English (the two languages the forms are written in)."""

import re

CHINESE = "zh-hans"
ENGLISH = "en"

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
# A Chinese character carries about as much as a short English word (four or five letters):
# "APP闪退了" is Chinese, "The app is great, 谢谢" is English.
CHINESE_SHARE = 0.2


def text_language(text: str) -> str:
    chinese = len(_CJK.findall(text))
    if not chinese:
        return ENGLISH
    latin = len(_LATIN.findall(text))
    return CHINESE if chinese / (chinese + latin) >= CHINESE_SHARE else ENGLISH
