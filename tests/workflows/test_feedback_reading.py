"""Reading free text: jieba with the user dictionary, topic rules in Chinese and English, the
language and the sentiment's sign on clear, labelled sentences."""

import warnings

import pytest

from workflows.feedback.reading.language import CHINESE, ENGLISH, text_language
from workflows.feedback.reading.segmentation import (
    dictionary_refresh,
    segmentation_forget,
    words_cut,
)
from workflows.feedback.reading.sentiment import _bayes, sentiment_score
from workflows.feedback.reading.tokens import tokens_of
from workflows.feedback.reading.topics import topic_keywords, topic_rules_of, topics_match
from workflows.models import DictionaryWord

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_dictionary():
    segmentation_forget()
    yield
    segmentation_forget()


def test_a_dictionary_word_stays_whole_only_once_added():
    assert "积分兑换" not in words_cut("我想问一下积分兑换的规则")
    assert "金穗宝" not in words_cut("金穗宝的收益怎么样")

    DictionaryWord.objects.create(word="积分兑换")
    DictionaryWord.objects.create(word="金穗宝", frequency=2000)
    dictionary_refresh()

    assert "积分兑换" in words_cut("我想问一下积分兑换的规则")
    assert words_cut("金穗宝的收益怎么样")[0] == "金穗宝"


def test_a_deleted_dictionary_word_is_cut_again():
    word = DictionaryWord.objects.create(word="金穗宝")
    dictionary_refresh()
    assert "金穗宝" in words_cut("金穗宝不错")

    word.delete()
    dictionary_refresh()

    assert "金穗宝" not in words_cut("金穗宝不错")


def test_the_dictionary_is_read_again_only_when_it_changed(django_assert_num_queries):
    DictionaryWord.objects.create(word="积分兑换")
    dictionary_refresh()
    with django_assert_num_queries(1):  # the stamp only
        dictionary_refresh()
    DictionaryWord.objects.create(word="金穗宝")
    with django_assert_num_queries(2):  # the stamp, then the words
        dictionary_refresh()


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("客服态度很差", CHINESE),
        ("APP闪退了", CHINESE),
        ("登录的时候app crash了", CHINESE),
        ("The app is great, 谢谢", ENGLISH),
        ("Waited too long at the branch", ENGLISH),
        ("👍👍", ENGLISH),
    ],
)
def test_the_language_is_chinese_when_a_fair_share_is_chinese(text, language):
    assert text_language(text) == language


RULES = topic_rules_of(
    [
        (1, "物流/快递/delivery"),
        (2, "客服，态度, Rude"),
        (3, "排队/等了/慢\nwait time"),
        (4, "手续费/费用/fee/charge"),
        (5, "APP/闪退/crash"),
        (6, "理财"),
    ]
)


def _topics(text: str) -> list[int]:
    return topics_match(tokens_of(text, text_language(text)), RULES)


def test_a_chinese_text_gets_every_topic_it_mentions():
    assert _topics("快递太慢了，客服态度也不好") == [1, 2, 3]
    assert _topics("APP老是闪退") == [5]
    assert _topics("排队等了一个小时") == [3]  # 等|了: two words
    # Inside one word: 理财 in 理财产品, 慢 in 太慢.
    assert _topics("这款理财产品收益一般") == [6]


def test_a_chinese_keyword_never_matches_across_words():
    assert words_cut("消费用户") == ["消费", "用户"]
    assert _topics("消费用户越来越多") == []
    assert _topics("费用太高") == [4]


def test_english_keywords_match_words_phrases_and_endings():
    assert _topics("The staff were rude and the app crashed twice.") == [2, 5]
    assert _topics("The wait time at the counter was long") == [3]
    assert _topics("I had to wait, then the time was up") == []
    assert _topics("Hidden fees on every statement") == [4]
    assert _topics("They charged me twice, and the wait times are long") == [3, 4]
    assert _topics("A feedback form for the application") == []


def test_topic_keywords_split_on_slashes_commas_and_lines():
    assert topic_keywords("物流/快递，配送, Delivery\nshipping / 物流") == [
        "物流",
        "快递",
        "配送",
        "delivery",
        "shipping",
    ]


CHINESE_POSITIVE = [
    "这家银行的服务非常好，客户经理很专业，手机银行也好用，推荐！",
    "柜台工作人员很耐心，办理很及时，点赞",
    "非常满意，谢谢",
    "理财产品收益不错，客户经理讲解得很清楚",
    "快递很快，包装完好",
    "体验很好，五星好评",
    "积分兑换的礼品很实用",
    "没有问题，很好",
    "虽然等了很久，但是客服很耐心",
    "手机银行转账方便快捷",
]
CHINESE_NEGATIVE = [
    "客服态度很差",
    "等了很久，太慢了",
    "APP经常闪退，登录不上",
    "手续费太高了",
    "我要投诉",
    "客服回复很慢，问题一直没解决",
    "费用不透明，乱收费",
    "网点排队时间太长",
    "年费太贵",
    "不满意",
    "一点也不专业",
    "不会再推荐了",
]
ENGLISH_POSITIVE = [
    "Great service, very professional and quick!",
    "The staff were friendly and patient, thank you.",
    "Easy to use app, I love it",
    "Not bad at all",
]
ENGLISH_NEGATIVE = [
    "The staff were rude and I waited an hour.",
    "The app keeps crashing when I log in",
    "Hidden fees everywhere, overcharged again",
    "Not satisfied at all",
    "Terrible experience, I want to complain",
]


@pytest.mark.parametrize("text", CHINESE_POSITIVE + ENGLISH_POSITIVE)
def test_clearly_positive_answers_score_above_zero(text):
    score = sentiment_score(text, text_language(text))
    assert 0 < score <= 1


@pytest.mark.parametrize("text", CHINESE_NEGATIVE + ENGLISH_NEGATIVE)
def test_clearly_negative_answers_score_below_zero(text):
    score = sentiment_score(text, text_language(text))
    assert -1 <= score < 0


def test_negation_flips_the_sign():
    assert sentiment_score("满意", CHINESE) > 0
    assert sentiment_score("不满意", CHINESE) < 0
    assert sentiment_score("不是很满意", CHINESE) < 0
    assert sentiment_score("专业", CHINESE) > 0
    assert sentiment_score("不专业", CHINESE) < 0
    assert sentiment_score("I am satisfied", ENGLISH) > 0
    assert sentiment_score("I am not satisfied", ENGLISH) < 0


def test_the_bayes_model_is_snownlps_own_over_jiebas_words():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from snownlp.sentiment import classifier
    model = _bayes()
    for text in CHINESE_POSITIVE[:3] + CHINESE_NEGATIVE[:3]:
        words = [word for word in words_cut(text) if word not in model.stopwords]
        label, probability = classifier.classifier.classify(words)
        expected = probability if label == "pos" else 1 - probability
        assert model.positive_probability(words) == pytest.approx(expected, abs=1e-9)
