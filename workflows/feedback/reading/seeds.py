"""Example topic rules and user dictionary words for a bank's loyalty feedback (idempotent)."""

from django.db import transaction

from workflows.models import DictionaryWord, FeedbackTopic

TOPICS = [
    ("Delivery", "物流", "物流/快递/配送/发货/delivery/shipping"),
    ("Service attitude", "服务态度", "客服/态度/服务/staff/rude/attitude"),
    ("Waiting time", "等待时间", "排队/等待/等了/慢/wait/queue/slow"),
    ("Fees", "费用", "手续费/费用/收费/年费/fee/charge"),
    ("App", "手机银行", "APP/手机银行/app/闪退/登录/login/crash"),
    ("Product", "产品", "产品/理财/利率/product/rate"),
    ("Branch", "网点", "网点/柜台/branch/counter"),
    ("Points and rewards", "积分与礼品", "积分/兑换/礼品/points/reward"),
]
WORDS = ["手机银行", "信用卡", "理财产品", "积分兑换", "客户经理", "年费", "闪退"]


@transaction.atomic
def feedback_rules_seed() -> tuple[int, int]:
    """Create the topics and words missing (by English name, by word); returns how many of
    each were created. Existing ones, perhaps edited by supervisors, are left alone."""
    topics = sum(
        FeedbackTopic.objects.get_or_create(
            name_en=name_en, defaults={"name_zh_hans": name_zh_hans, "keywords": keywords}
        )[1]
        for name_en, name_zh_hans, keywords in TOPICS
    )
    words = sum(DictionaryWord.objects.get_or_create(word=word)[1] for word in WORDS)
    return topics, words
