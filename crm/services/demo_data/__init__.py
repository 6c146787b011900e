"""Demo data: a believable Chinese bank-and-shop customer base, from 50 to millions of customers.

Customer number `i` (1-based) is the demo customer whose SourceRecord has the external id
`DEMO-CB-000000i` (bank) or `DEMO-SH-000000i` (shop). Customers are written in chunks, each in
one transaction, so the demo customers in the database are always numbers 1..k: a second run
with the same count adds nothing and a larger count adds only k+1..N.

Every chunk draws from its own RNG seeded with (seed, chunk start), so the same commands on an
empty database give the same data (times are relative to today, 00:00 UTC). Values are drawn
column-wise (`choices(k=...)`) and written with PostgreSQL's COPY (or `executemany` on SQLite);
there is never an INSERT per row.
History (simple-history) rows are not written: demo customers have no change history.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from itertools import islice

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, connections, transaction
from django.db.models import Count, ExpressionWrapper, IntegerField, Model
from django.db.models.functions import Cast, Substr

from crm import roles
from crm.models import (
    BalanceSnapshot,
    Consent,
    CreditEvent,
    Customer,
    CustomerTag,
    Interaction,
    Preference,
    ProductHolding,
    Source,
    SourceRecord,
    Tag,
    Team,
    TeamMembership,
    Transaction,
)

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - the documented demo login, never production
DEMO_PREFIX = "DEMO-"
CUSTOMERS_PER_TEAM = 50_000
CUSTOMERS_PER_RM = 2_000
DAY = 86_400
HISTORY_DAYS = 3 * 365  # customers joined over the last three years
TRANSACTION_DAYS = 456  # fifteen months of transactions
BALANCE_DAYS = 92

# --- Pools ------------------------------------------------------------------------------------
# fmt: off

TEAM_NAMES = [
    "浦东支行", "徐汇支行", "静安支行", "黄浦支行", "长宁支行", "普陀支行", "虹口支行", "杨浦支行",
    "闵行支行", "宝山支行", "嘉定支行", "松江支行", "青浦支行", "奉贤支行", "金山支行", "崇明支行",
    "陆家嘴支行", "张江支行", "虹桥支行", "五角场支行", "苏州分行", "杭州分行", "南京分行",
    "无锡分行",
]

# (surname, pinyin, weight in per mille of the population, roughly)
SURNAMES = [
    ("王", "wang", 71), ("李", "li", 70), ("张", "zhang", 67), ("刘", "liu", 54),
    ("陈", "chen", 45), ("杨", "yang", 31), ("黄", "huang", 23), ("赵", "zhao", 23),
    ("吴", "wu", 20), ("周", "zhou", 19),
    ("徐", "xu", 15), ("孙", "sun", 14), ("马", "ma", 13), ("朱", "zhu", 12), ("胡", "hu", 12),
    ("郭", "guo", 11), ("何", "he", 10), ("高", "gao", 10), ("林", "lin", 10), ("罗", "luo", 9),
    ("郑", "zheng", 9), ("梁", "liang", 8), ("谢", "xie", 7), ("宋", "song", 7), ("唐", "tang", 6),
    ("许", "xu", 6), ("韩", "han", 6), ("冯", "feng", 6), ("邓", "deng", 6), ("曹", "cao", 5),
    ("彭", "peng", 5), ("曾", "zeng", 5), ("肖", "xiao", 5), ("田", "tian", 5), ("董", "dong", 5),
    ("袁", "yuan", 4), ("潘", "pan", 4), ("于", "yu", 4), ("蒋", "jiang", 4), ("蔡", "cai", 4),
    ("余", "yu", 4), ("杜", "du", 4), ("叶", "ye", 4), ("程", "cheng", 4), ("苏", "su", 3),
    ("魏", "wei", 3), ("吕", "lv", 3), ("丁", "ding", 3), ("任", "ren", 3), ("沈", "shen", 3),
    ("姚", "yao", 3), ("卢", "lu", 3), ("姜", "jiang", 3), ("崔", "cui", 3), ("钟", "zhong", 3),
    ("谭", "tan", 3), ("陆", "lu", 3), ("汪", "wang", 3), ("范", "fan", 3), ("金", "jin", 3),
    ("石", "shi", 3), ("廖", "liao", 3), ("贾", "jia", 2), ("夏", "xia", 2), ("韦", "wei", 2),
    ("付", "fu", 2), ("方", "fang", 2), ("白", "bai", 2), ("邹", "zou", 2), ("孟", "meng", 2),
    ("熊", "xiong", 2), ("秦", "qin", 2), ("邱", "qiu", 2), ("江", "jiang", 2), ("尹", "yin", 2),
    ("薛", "xue", 2), ("段", "duan", 2), ("雷", "lei", 2), ("侯", "hou", 2), ("龙", "long", 2),
    ("史", "shi", 2), ("陶", "tao", 2), ("黎", "li", 2), ("贺", "he", 2), ("顾", "gu", 2),
    ("毛", "mao", 2), ("郝", "hao", 2), ("龚", "gong", 2), ("邵", "shao", 2), ("钱", "qian", 2),
    ("欧阳", "ouyang", 1), ("司马", "sima", 1), ("诸葛", "zhuge", 1),
]

GIVEN_CHARACTERS = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂", "gui"), ("英", "ying"), ("华", "hua"),
    ("建", "jian"), ("国", "guo"), ("文", "wen"), ("辉", "hui"), ("鹏", "peng"), ("飞", "fei"),
    ("玲", "ling"), ("婷", "ting"), ("雪", "xue"), ("梅", "mei"), ("晨", "chen"), ("宇", "yu"),
    ("浩", "hao"), ("然", "ran"), ("子", "zi"), ("涵", "han"), ("欣", "xin"), ("怡", "yi"),
    ("梓", "zi"), ("轩", "xuan"), ("思", "si"), ("远", "yuan"), ("佳", "jia"), ("琪", "qi"),
    ("俊", "jun"), ("雨", "yu"), ("萱", "xuan"), ("博", "bo"), ("嘉", "jia"), ("诗", "shi"),
    ("一", "yi"), ("诺", "nuo"), ("晓", "xiao"), ("红", "hong"), ("志", "zhi"), ("海", "hai"),
    ("亮", "liang"), ("春", "chun"), ("燕", "yan"), ("慧", "hui"), ("丹", "dan"), ("波", "bo"),
    ("斌", "bin"), ("宁", "ning"), ("颖", "ying"), ("峰", "feng"), ("凯", "kai"), ("瑞", "rui"),
    ("鑫", "xin"), ("天", "tian"), ("阳", "yang"), ("昊", "hao"), ("泽", "ze"), ("彤", "tong"),
    ("馨", "xin"), ("悦", "yue"),
]

BUSINESS_CITIES = ["上海", "上海", "上海", "苏州", "杭州", "南京", "宁波"]
BUSINESS_WORDS = [
    "华信", "恒通", "瑞丰", "鼎盛", "金桥", "宏达", "永安", "东方", "锦程", "汇丰源", "新世纪",
    "博远", "天合", "盛世", "佳禾", "中联", "星辰", "安泰",
]
BUSINESS_TRADES = [
    "贸易", "科技", "餐饮管理", "物流", "实业", "电子商务", "建筑工程", "文化传媒", "医疗器械",
    "投资咨询", "服装", "食品",
]

# China's mobile prefixes that libphonenumber accepts as valid.
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "198", "199",
]
EMAIL_DOMAINS = ["163.com", "126.com", "sina.com", "foxmail.com", "outlook.com", "139.com"]
EMAIL_DOMAIN_WEIGHTS = [35, 15, 8, 15, 17, 10]

# category: (share of purchases, lowest and highest amount, merchants)
CATEGORIES: dict[str, tuple[int, float, float, list[str]]] = {
    Transaction.Category.DINING: (24, 18, 600, [
        "星巴克", "海底捞", "喜茶", "瑞幸咖啡", "肯德基", "麦当劳", "西贝莜面村", "外婆家",
        "必胜客", "太二酸菜鱼", "南翔馒头店", "鼎泰丰"]),
    Transaction.Category.SUPERMARKET: (22, 12, 900, [
        "盒马鲜生", "全家", "罗森", "7-Eleven", "永辉超市", "沃尔玛", "家乐福", "大润发",
        "山姆会员店", "联华超市", "叮咚买菜"]),
    Transaction.Category.MOTHER_AND_BABY: (6, 40, 2_500, [
        "孩子王", "爱婴室", "乐友", "贝亲官方旗舰店", "天猫母婴"]),
    Transaction.Category.TRAVEL: (8, 30, 9_000, [
        "携程", "飞猪", "去哪儿", "东方航空", "中国国航", "春秋航空", "铁路12306", "华住会",
        "锦江酒店", "滴滴出行"]),
    Transaction.Category.ELECTRONICS: (6, 80, 15_000, [
        "京东", "苏宁易购", "Apple Store", "小米之家", "华为旗舰店"]),
    Transaction.Category.FASHION: (9, 60, 4_000, [
        "优衣库", "ZARA", "天猫", "唯品会", "太平鸟", "李宁", "安踏"]),
    Transaction.Category.HEALTH: (5, 20, 3_000, [
        "老百姓大药房", "益丰大药房", "美年大健康", "爱尔眼科", "叮当快药"]),
    Transaction.Category.EDUCATION: (3, 100, 12_000, ["新东方", "学而思", "得到", "樊登读书"]),
    Transaction.Category.HOME: (5, 50, 9_000, ["宜家家居", "红星美凯龙", "居然之家", "无印良品"]),
    Transaction.Category.OTHER: (12, 10, 600, [
        "拼多多", "美团", "饿了么", "中国移动", "国家电网", "上海燃气"]),
}
TRANSACTION_COUNTS = list(range(81))
# Geometric with a mean of about ten transactions: most customers buy a little, a few a lot.
TRANSACTION_COUNT_WEIGHTS = [(10 / 11) ** n for n in TRANSACTION_COUNTS]
TRANSACTION_KINDS = [
    Transaction.Kind.PURCHASE, Transaction.Kind.CARD_REPAYMENT, Transaction.Kind.REFUND
]
TRANSACTION_KIND_WEIGHTS = [84, 12, 4]
PURCHASE_CHANNELS = [
    Transaction.Channel.ONLINE, Transaction.Channel.STORE, Transaction.Channel.POS,
    Transaction.Channel.APP,
]
PURCHASE_CHANNEL_WEIGHTS = [40, 20, 25, 15]
PAYMENT_METHODS = [
    Transaction.PaymentMethod.WALLET, Transaction.PaymentMethod.CARD,
    Transaction.PaymentMethod.ACCOUNT, Transaction.PaymentMethod.CASH,
]
PAYMENT_METHOD_WEIGHTS = [50, 38, 8, 4]

# product type: (share, lowest and highest amount, product names)
PRODUCTS: dict[str, tuple[int, float, float, list[str]]] = {
    ProductHolding.ProductType.WEALTH_MANAGEMENT: (25, 10_000, 2_000_000, [
        "朝朝宝", "天天利理财", "稳健增利180天", "季季开理财", "安心稳健一年定开"]),
    ProductHolding.ProductType.DEPOSIT: (20, 10_000, 1_000_000, [
        "一年期定期存款", "三年期定期存款", "大额存单", "七天通知存款"]),
    ProductHolding.ProductType.CREDIT_CARD: (25, 10_000, 100_000, [
        "经典白金信用卡", "金卡", "携程联名信用卡", "青年信用卡"]),
    ProductHolding.ProductType.FUND: (12, 1_000, 500_000, [
        "易方达蓝筹精选混合", "招商中证白酒指数", "华夏沪深300ETF联接", "稳健增长混合基金",
        "嘉实纯债债券"]),
    ProductHolding.ProductType.INSURANCE: (10, 2_000, 300_000, [
        "平安福重疾险", "国寿鑫享年金", "太平洋百万医疗", "泰康健康尊享"]),
    ProductHolding.ProductType.LOAN: (8, 50_000, 3_000_000, [
        "个人住房贷款", "个人消费贷款", "经营贷", "汽车贷款"]),
}
HOLDING_COUNTS = [0, 1, 2, 3, 4]
HOLDING_COUNT_WEIGHTS = [10, 35, 35, 15, 5]  # 1.7 per bank customer

# kind, severity, note, weight
CREDIT_EVENTS = [
    (CreditEvent.Kind.CARD_OVERDUE, CreditEvent.Severity.MINOR, "信用卡逾期7天，已短信提醒", 40),
    (CreditEvent.Kind.CARD_OVERDUE, CreditEvent.Severity.SERIOUS, "信用卡逾期超过90天", 8),
    (CreditEvent.Kind.OVERDUE_LOAN, CreditEvent.Severity.MINOR, "贷款逾期15天，客户已承诺还款", 20),
    (CreditEvent.Kind.OVERDUE_LOAN, CreditEvent.Severity.SERIOUS, "贷款逾期超过60天", 15),
    (CreditEvent.Kind.FRAUD_FLAG, CreditEvent.Severity.SERIOUS, "疑似盗刷，风控冻结", 7),
    (CreditEvent.Kind.DEFAULT, CreditEvent.Severity.SERIOUS, "贷款违约，已移交资产保全部", 10),
]

INTERACTIONS: dict[str, tuple[int, list[str]]] = {
    Interaction.Kind.LOGIN: (35, ["手机银行登录", "App登录", "小程序登录"]),
    Interaction.Kind.CALL: (20, [
        "电话回访：客户对理财产品满意", "电话提醒：信用卡还款日临近", "客户来电咨询积分兑换",
        "电话回访：了解客户近期资金安排"]),
    Interaction.Kind.REVIEW: (15, [
        "评价：送货很快，包装完好", "评价：服务态度很好", "评价：商品与描述不符",
        "评价：性价比高，会回购"]),
    Interaction.Kind.MESSAGE: (12, [
        "短信通知：积分即将到期", "短信通知：生日礼遇已发放", "推送：会员日活动提醒"]),
    Interaction.Kind.VISIT: (8, [
        "到网点办理大额存单", "网点咨询房贷提前还款", "网点办理信用卡提额"]),
    Interaction.Kind.NOTE: (5, ["客户偏好周末联系", "客户计划明年购房", "客户孩子明年上小学"]),
    Interaction.Kind.FEEDBACK: (5, ["满意度调查：非常满意", "满意度调查：等待时间太长"]),
}
STAFF_INTERACTIONS = {Interaction.Kind.CALL, Interaction.Kind.VISIT, Interaction.Kind.NOTE}
INTERACTION_COUNTS = list(range(9))
INTERACTION_COUNT_WEIGHTS = [10, 15, 20, 20, 15, 10, 5, 3, 2]

PREFERENCES = [
    "无烟房，靠近电梯", "枕头：记忆棉", "只在工作日下午联系", "不喜欢电话营销，请发短信",
    "偏好靠窗座位", "对坚果过敏", "需要增值税专用发票", "周末不接电话", "喜欢素食",
    "沟通请用上海话", "快递放门卫", "理财偏好稳健型",
]

# name, description, share of customers (per mille)
MANUAL_TAGS = [
    ("高净值", "资产规模较高，由客户经理重点维护", 12),
    ("潜力客户", "消费增长快，有升级潜力", 15),
    ("重点维护", "客户经理每月至少联系一次", 10),
    ("投诉敏感", "曾有投诉，沟通需谨慎", 4),
    ("企业主", "个人客户名下有企业", 5),
    ("VIP", "贵宾客户", 6),
]
CONSENT_EVIDENCE = ["开户时签署", "App隐私设置", "网点柜台", "电话确认", "线上商城注册"]

# Columns in the order the row tuples below hold them.
CUSTOMER_FIELDS = ("id", "kind", "name", "phone", "email", "birth_date", "is_student", "status",
                   "owner", "team", "created_at", "updated_at")
CONSENT_FIELDS = ("id", "customer", "channel", "purpose", "is_granted", "granted_at",
                  "withdrawn_at", "evidence")
TRANSACTION_FIELDS = ("id", "customer", "kind", "amount", "currency", "category", "channel",
                      "payment_method", "merchant", "occurred_at", "source", "external_id",
                      "refund_of", "created_at")
HOLDING_FIELDS = ("id", "customer", "product_type", "product_name", "amount", "currency",
                  "opened_on", "closed_on", "source", "external_id")
# fmt: on


# --- Result -----------------------------------------------------------------------------------


@dataclass
class DemoDataSummary:
    requested: int
    existing: int
    created: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def add(self, name: str, count: int) -> None:
        self.created[name] = self.created.get(name, 0) + count


# --- Entry point ------------------------------------------------------------------------------


def demo_data_generate(
    *, customers: int, seed: int = 2026, chunk_size: int = 50_000, workers: int = 1
) -> DemoDataSummary:
    """Make sure demo customers 1..`customers` exist, with staff, teams and everything they own.

    With `workers` > 1 on PostgreSQL, chunks are written by that many processes at once (the
    database does most of the work, on one core per connection).
    """
    if customers < 0:
        raise ValueError("customers must be zero or more")
    started = time.monotonic()
    existing = demo_customers_count()
    summary = DemoDataSummary(requested=customers, existing=existing)
    staff = _staff_ensure(customers=max(customers, existing), summary=summary)
    tags = _tags_ensure(summary=summary)
    anchor = _anchor_timestamp()
    jobs = [
        _ChunkJob(seed=seed, start=start, stop=stop, staff=staff, tags=tags, anchor=anchor)
        for start, stop in _missing_ranges(customers=customers, chunk_size=chunk_size)
    ]
    parallel = (
        workers > 1
        and len(jobs) > 1
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )
    for created in _chunks_run_parallel(jobs, workers) if parallel else map(_chunk_run, jobs):
        for name, count in created.items():
            summary.add(name, count)
    summary.elapsed_s = time.monotonic() - started
    return summary


def demo_customers_count() -> int:
    return SourceRecord.objects.filter(external_id__startswith=DEMO_PREFIX).count()


def _missing_ranges(*, customers: int, chunk_size: int) -> list[tuple[int, int]]:
    """The customer indexes still to write, per chunk aligned to the chunk size.

    A chunk is written in one transaction, and a run writes the rest of a chunk after what
    an earlier, smaller run left; so what exists of a chunk is always its first k customers.
    """
    number = Cast(Substr("external_id", len(DEMO_PREFIX) + 4), IntegerField())
    present = dict(
        SourceRecord.objects.filter(external_id__startswith=DEMO_PREFIX)
        .annotate(chunk=ExpressionWrapper((number - 1) / chunk_size, IntegerField()))
        .values_list("chunk")
        .annotate(n=Count("id"))
        .order_by()
    )
    ranges = []
    for chunk_start in range(0, customers, chunk_size):
        start = chunk_start + present.get(chunk_start // chunk_size, 0)
        stop = min(customers, chunk_start + chunk_size)
        if start < stop:
            ranges.append((start, stop))
    return ranges


def _anchor_timestamp() -> int:
    """Today at 00:00 UTC: data ends there, so a rerun on the same day draws the same times."""
    now = int(time.time())
    return now - now % DAY


# --- Staff, teams and tags --------------------------------------------------------------------


@dataclass
class _Staff:
    rm_ids: list[int]
    team_of: dict[int, int]  # RM id -> team id


def _staff_ensure(*, customers: int, summary: DemoDataSummary) -> _Staff:
    """Teams, the three demo logins, a supervisor per team and one RM per 2,000 customers.

    Staff who are already in a team are left as they are, so a rerun costs three queries.
    """
    team_count = max(2, math.ceil(customers / CUSTOMERS_PER_TEAM))
    rm_count = max(team_count + 1, math.ceil(customers / CUSTOMERS_PER_RM))
    teams = [_team_ensure(index, summary) for index in range(team_count)]
    supervisors = ["supervisor"] + [f"supervisor{index + 1}" for index in range(1, team_count)]
    rm_names = [f"rm{number}" for number in range(1, rm_count + 1)]
    placed = _team_memberships(supervisors + rm_names)

    for index, (username, team) in enumerate(zip(supervisors, teams, strict=True)):
        if username not in placed:
            _staff_user_create(
                username=username,
                team=team,
                role=TeamMembership.Role.SUPERVISOR,
                demo_login=index == 0,
            )
            summary.add("staff users", 1)
    rm_counts = dict(
        TeamMembership.objects.filter(team__in=teams, role=TeamMembership.Role.RELATIONSHIP_MANAGER)
        .values_list("team_id")
        .annotate(n=Count("id"))
    )
    for number, username in enumerate(rm_names, start=1):
        if username in placed:
            continue
        if number <= 2:
            team = teams[0]
        else:
            # A new RM joins the team with the fewest RMs, so teams stay about the same size.
            team = min(teams, key=lambda t: (rm_counts.get(t.pk, 0), teams.index(t)))
        _staff_user_create(
            username=username,
            team=team,
            role=TeamMembership.Role.RELATIONSHIP_MANAGER,
            demo_login=number <= 2,
        )
        summary.add("staff users", 1)
        rm_counts[team.pk] = rm_counts.get(team.pk, 0) + 1

    placed = _team_memberships(rm_names)
    rm_ids = [placed[name][0] for name in rm_names]
    return _Staff(rm_ids=rm_ids, team_of=dict(placed[name] for name in rm_names))


def _team_memberships(usernames: list[str]) -> dict[str, tuple[int, int]]:
    """username -> (user id, team id) for those of the users who are in a team."""
    memberships = TeamMembership.objects.filter(user__username__in=usernames).values_list(
        "user__username", "user_id", "team_id"
    )
    return {name: (user_id, team_id) for name, user_id, team_id in memberships}


def _team_ensure(index: int, summary: DemoDataSummary) -> Team:
    name = TEAM_NAMES[index] if index < len(TEAM_NAMES) else f"第{index + 1}支行"
    team, created = Team.objects.get_or_create(name=name)
    summary.add("teams", int(created))
    return team


def _role_group(name: str) -> Group:
    if not Group.objects.filter(name=name).exists():
        roles.sync_role_groups()
    return Group.objects.get(name=name)


@transaction.atomic
def _staff_user_create(*, username: str, team: Team, role: str, demo_login: bool) -> None:
    """One staff user in one team and its role's group; only the demo logins can sign in."""
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.is_staff = True
    if demo_login:
        user.set_password(DEMO_PASSWORD)
    else:
        user.set_unusable_password()
    user.save(update_fields=["is_staff", "password"])
    group_name = (
        roles.SUPERVISOR if role == TeamMembership.Role.SUPERVISOR else roles.RELATIONSHIP_MANAGER
    )
    user.groups.add(_role_group(group_name))
    TeamMembership.objects.create(team=team, user=user, role=role)


def _tags_ensure(*, summary: DemoDataSummary) -> list[tuple[int, int]]:
    """The manual tags with their share of customers (per mille)."""
    result = []
    for name, description, share in MANUAL_TAGS:
        tag, created = Tag.objects.get_or_create(
            name=name, defaults={"kind": Tag.Kind.MANUAL, "description": description}
        )
        summary.add("tags", int(created))
        result.append((tag.pk, share))
    return result


# --- Writing rows -----------------------------------------------------------------------------


class _Writer:
    """Writes rows with explicit ids: COPY on PostgreSQL, executemany on SQLite."""

    batch_size = 5_000

    def __init__(self) -> None:
        self.vendor = connection.vendor
        if self.vendor not in ("postgresql", "sqlite"):
            raise NotImplementedError(f"Demo data needs PostgreSQL or SQLite, not {self.vendor}")
        self.timestamp = _TimestampFormat(suffix="+00" if self.vendor == "postgresql" else "")

    def reserve_ids(self, model: type[Model], count: int) -> list[int]:
        if count == 0:
            return []
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, count],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: the chunk's transaction began IMMEDIATE and holds the write lock.
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            first = cursor.fetchone()[0] + 1
            return list(range(first, first + count))

    def write(self, model: type[Model], fields: Sequence[str], rows: Iterable[tuple]) -> int:
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        column_of = {
            model_field.name: model_field.column
            for model_field in model._meta.concrete_fields
            if model_field.column
        }
        columns = ", ".join(quote(column_of[name]) for name in fields)
        written = 0
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        written += 1
                return written
            placeholders = ", ".join(["%s"] * len(fields))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
            for batch in _batches(rows, self.batch_size):
                cursor.executemany(sql, batch)
                written += len(batch)
        return written


def _batches(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


@cache
def _times_of_day() -> list[str]:
    return [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)]


class _TimestampFormat:
    """Epoch seconds to the text each database stores for an aware UTC datetime.

    Formatting ten million datetimes through `datetime` objects costs more than drawing them;
    days are cached and the time of day is a list lookup.
    """

    def __init__(self, suffix: str) -> None:
        self._suffix = suffix
        self._days: dict[int, str] = {}
        self._times = _times_of_day()

    def __call__(self, timestamp: int) -> str:
        day, second = divmod(timestamp, DAY)
        return f"{self.date(day)} {self._times[second]}{self._suffix}"

    def date(self, day: int) -> str:
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
        return text


# --- One chunk --------------------------------------------------------------------------------


@dataclass
class _Chunk:
    """The customers of one chunk, column-wise, as their children need them."""

    numbers: list[int]
    ids: list[int]
    is_bank: list[bool]
    owner_ids: list[int]
    created: list[int]


@dataclass
class _ChunkJob:
    seed: int
    start: int
    stop: int
    staff: _Staff
    tags: list[tuple[int, int]]
    anchor: int


def _chunk_run(job: _ChunkJob) -> dict[str, int]:
    """Write customers start..stop-1 and what they own in one transaction; the rows per table."""
    started = time.monotonic()
    rng = random.Random(f"{job.seed}:{job.start}")  # noqa: S311 - demo data, not security
    writer = _Writer()
    with transaction.atomic():
        chunk = _customers_write(
            rng=rng,
            start=job.start,
            stop=job.stop,
            staff=job.staff,
            anchor=job.anchor,
            writer=writer,
        )
        created = {"customers": len(chunk.ids)}
        steps: list[tuple[str, Callable[..., int]]] = [
            ("source records", _source_records_write),
            ("consents", _consents_write),
            ("transactions", _transactions_write),
            ("balance snapshots", _balances_write),
            ("product holdings", _holdings_write),
            ("credit events", _credit_events_write),
            ("interactions", _interactions_write),
            ("preferences", _preferences_write),
            ("customer tags", _customer_tags_write),
        ]
        for name, step in steps:
            created[name] = step(
                rng=rng, chunk=chunk, anchor=job.anchor, writer=writer, tags=job.tags
            )
    logger.info(
        "demo data: customers %d-%d written in %.1fs",
        job.start + 1,
        job.stop,
        time.monotonic() - started,
    )
    return created


def _chunks_run_parallel(jobs: list[_ChunkJob], workers: int) -> list[dict[str, int]]:
    """Run the chunks in forked processes, each on its own database connection."""
    # A forked child must not share the parent's socket: close it, and each child opens its own.
    connections.close_all()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
    try:
        futures = [pool.submit(_chunk_run, job) for job in jobs]
        return [future.result() for future in futures]
    finally:
        # After a failure, chunks not started yet are dropped; the next run writes them.
        pool.shutdown(cancel_futures=True)


def _customers_write(
    *,
    rng: random.Random,
    start: int,
    stop: int,
    staff: _Staff,
    anchor: int,
    writer: _Writer,
) -> _Chunk:
    n = stop - start
    ts = writer.timestamp
    numbers = list(range(start + 1, stop + 1))
    ids = writer.reserve_ids(Customer, n)
    is_business = [u < 0.03 for u in _uniforms(rng, n)]
    is_bank = [u < 0.2 for u in _uniforms(rng, n)]
    is_student = [
        not business and u < 0.05
        for business, u in zip(is_business, _uniforms(rng, n), strict=True)
    ]
    owner_ids = rng.choices(staff.rm_ids, k=n)
    created = [anchor - int(u * HISTORY_DAYS * DAY) for u in _uniforms(rng, n)]
    names, name_pinyin = _names(rng, n, is_business)
    phones = _phones(rng, numbers)
    emails = _emails(rng, numbers, name_pinyin, is_business)
    birth_dates = _birth_dates(rng, anchor, is_business, is_student)
    statuses = rng.choices(
        [Customer.Status.ACTIVE, Customer.Status.DORMANT, Customer.Status.CLOSED],
        weights=[90, 8, 2],
        k=n,
    )
    kinds = [Customer.Kind.BUSINESS if b else Customer.Kind.INDIVIDUAL for b in is_business]
    rows = (
        (
            ids[k],
            kinds[k],
            names[k],
            phones[k],
            emails[k],
            birth_dates[k],
            is_student[k],
            statuses[k],
            owner_ids[k],
            staff.team_of[owner_ids[k]],
            ts(created[k]),
            ts(created[k]),
        )
        for k in range(n)
    )
    fields = CUSTOMER_FIELDS
    writer.write(Customer, fields, rows)
    return _Chunk(numbers=numbers, ids=ids, is_bank=is_bank, owner_ids=owner_ids, created=created)


def _between(start: int, stop: int, u: float) -> int:
    """The point at fraction `u` of [start, stop)."""
    return start + int(u * (stop - start - 1))


def _uniforms(rng: random.Random, n: int) -> list[float]:
    draw = rng.random
    return [draw() for _ in range(n)]


def _names(rng: random.Random, n: int, is_business: list[bool]) -> tuple[list[str], list[str]]:
    """Chinese names (and a pinyin spelling for the e-mail) or company names."""
    surnames = rng.choices(SURNAMES, weights=[w for _, _, w in SURNAMES], k=n)
    first = rng.choices(GIVEN_CHARACTERS, k=n)
    second = rng.choices(GIVEN_CHARACTERS, k=n)
    one_character = [u < 0.3 for u in _uniforms(rng, n)]
    cities = rng.choices(BUSINESS_CITIES, k=n)
    words = rng.choices(BUSINESS_WORDS, k=n)
    trades = rng.choices(BUSINESS_TRADES, k=n)
    names, pinyin = [], []
    for k in range(n):
        if is_business[k]:
            names.append(f"{cities[k]}{words[k]}{trades[k]}有限公司")
            pinyin.append("info")
            continue
        surname, surname_pinyin, _ = surnames[k]
        if one_character[k]:
            names.append(surname + first[k][0])
            pinyin.append(surname_pinyin + first[k][1])
        else:
            names.append(surname + first[k][0] + second[k][0])
            pinyin.append(surname_pinyin + first[k][1] + second[k][1])
    return names, pinyin


def _phones(rng: random.Random, numbers: list[int]) -> list[str]:
    """Unique mobile numbers in E.164: the last eight digits are a bijection of the number."""
    prefixes = rng.choices(MOBILE_PREFIXES, k=len(numbers))
    missing = _uniforms(rng, len(numbers))
    return [
        "" if u < 0.03 else f"+86{prefix}{(number * 48_271 + 13_579_246) % 100_000_000:08d}"
        for number, prefix, u in zip(numbers, prefixes, missing, strict=True)
    ]


def _emails(
    rng: random.Random, numbers: list[int], name_pinyin: list[str], is_business: list[bool]
) -> list[str]:
    """About 60% have an e-mail; unique, as the number is part of the local part."""
    n = len(numbers)
    has_email = _uniforms(rng, n)
    is_qq = _uniforms(rng, n)
    domains = rng.choices(EMAIL_DOMAINS, weights=EMAIL_DOMAIN_WEIGHTS, k=n)
    emails = []
    for k in range(n):
        if has_email[k] >= (0.9 if is_business[k] else 0.6):
            emails.append("")
        elif is_qq[k] < 0.35 and not is_business[k]:
            # QQ numbers and the pinyin suffix are bijections of the customer number.
            emails.append(f"{100_000 + numbers[k] * 7_919 % 999_999_937}@qq.com")
        else:
            emails.append(f"{name_pinyin[k]}{(numbers[k] * 7_919 + 123) % 10_000_000}@{domains[k]}")
    return emails


def _birth_dates(
    rng: random.Random, anchor: int, is_business: list[bool], is_student: list[bool]
) -> list[str | None]:
    n = len(is_business)
    adult_ages = rng.choices(range(22, 81), weights=[60 - abs(a - 40) for a in range(22, 81)], k=n)
    student_ages = rng.choices(range(18, 26), k=n)
    days_in_year = _uniforms(rng, n)
    today = date(1970, 1, 1) + timedelta(days=anchor // DAY)
    result: list[str | None] = []
    for k in range(n):
        if is_business[k]:
            result.append(None)
            continue
        age = student_ages[k] if is_student[k] else adult_ages[k]
        birthday = today - timedelta(days=int((age + days_in_year[k]) * 365.25))
        result.append(birthday.isoformat())
    return result


# --- What customers own -----------------------------------------------------------------------
# Every step takes the same keyword arguments and returns how many rows it wrote.


def _source_records_write(*, chunk: _Chunk, writer: _Writer, **_rest: object) -> int:
    ids = writer.reserve_ids(SourceRecord, len(chunk.ids))
    ts = writer.timestamp
    rows = (
        (
            ids[k],
            chunk.ids[k],
            Source.CORE_BANKING if chunk.is_bank[k] else Source.SHOP,
            f"{DEMO_PREFIX}{'CB' if chunk.is_bank[k] else 'SH'}-{chunk.numbers[k]:07d}",
            ts(chunk.created[k]),
        )
        for k in range(len(chunk.ids))
    )
    return writer.write(
        SourceRecord, ("id", "customer", "source", "external_id", "created_at"), rows
    )


def _consents_write(
    *, rng: random.Random, chunk: _Chunk, anchor: int, writer: _Writer, **_rest: object
) -> int:
    """Marketing consents: a row where the customer answered; granted for a share of them."""
    # channel: (share of customers who answered, share of answers that are yes)
    channels = [
        (Consent.Channel.SMS, 0.8, 0.65),
        (Consent.Channel.EMAIL, 0.5, 0.55),
        (Consent.Channel.PUSH, 0.4, 0.7),
    ]
    ts = writer.timestamp
    draws = []
    for channel, answered, granted in channels:
        n = len(chunk.ids)
        draws.append(
            (
                channel,
                answered,
                granted,
                _uniforms(rng, n),
                _uniforms(rng, n),
                rng.choices(CONSENT_EVIDENCE, k=n),
            )
        )
    candidates = []
    for channel, answered, granted, u, when, evidence in draws:
        for k in range(len(chunk.ids)):
            if u[k] >= answered:
                continue
            is_granted = u[k] < answered * granted
            given = _between(chunk.created[k], anchor, when[k])
            # One in five "no"s is a withdrawn yes: it keeps the time it was given.
            withdrawn = not is_granted and when[k] < 0.2
            candidates.append(
                (
                    chunk.ids[k],
                    channel,
                    Consent.Purpose.MARKETING,
                    is_granted,
                    ts(given) if is_granted or withdrawn else None,
                    ts(min(anchor - 1, given + DAY * 30)) if withdrawn else None,
                    evidence[k],
                )
            )
    ids = writer.reserve_ids(Consent, len(candidates))
    rows = ((ids[k], *row) for k, row in enumerate(candidates))
    fields = CONSENT_FIELDS
    return writer.write(Consent, fields, rows)


def _transactions_write(
    *, rng: random.Random, chunk: _Chunk, anchor: int, writer: _Writer, **_rest: object
) -> int:
    n = len(chunk.ids)
    counts = rng.choices(TRANSACTION_COUNTS, weights=TRANSACTION_COUNT_WEIGHTS, k=n)
    total = sum(counts)
    ids = writer.reserve_ids(Transaction, total)
    draws = _TransactionDraws.draw(rng, total)
    rows = _transaction_rows(
        chunk=chunk, counts=counts, ids=ids, draws=draws, anchor=anchor, ts=writer.timestamp
    )
    fields = TRANSACTION_FIELDS
    return writer.write(Transaction, fields, rows)


@dataclass
class _TransactionDraws:
    kinds: list[str]
    categories: list[str]
    channels: list[str]
    payments: list[str]
    times: list[float]
    amounts: list[float]
    picks: list[float]

    @classmethod
    def draw(cls, rng: random.Random, total: int) -> _TransactionDraws:
        return cls(
            kinds=rng.choices(TRANSACTION_KINDS, weights=TRANSACTION_KIND_WEIGHTS, k=total),
            categories=rng.choices(
                list(CATEGORIES), weights=[c[0] for c in CATEGORIES.values()], k=total
            ),
            channels=rng.choices(PURCHASE_CHANNELS, weights=PURCHASE_CHANNEL_WEIGHTS, k=total),
            payments=rng.choices(PAYMENT_METHODS, weights=PAYMENT_METHOD_WEIGHTS, k=total),
            times=_uniforms(rng, total),
            amounts=_uniforms(rng, total),
            picks=_uniforms(rng, total),
        )


def _transaction_rows(
    *,
    chunk: _Chunk,
    counts: list[int],
    ids: list[int],
    draws: _TransactionDraws,
    anchor: int,
    ts: _TimestampFormat,
) -> Iterator[tuple]:
    """A customer's transactions in time order; a refund returns (part of) an earlier purchase."""
    purchase, refund = Transaction.Kind.PURCHASE, Transaction.Kind.REFUND
    repayment = Transaction.Kind.CARD_REPAYMENT
    in_store = {Transaction.Channel.STORE, Transaction.Channel.POS}
    window_start = anchor - TRANSACTION_DAYS * DAY
    position = 0
    for k, count in enumerate(counts):
        if not count:
            continue
        customer_id, number, is_bank = chunk.ids[k], chunk.numbers[k], chunk.is_bank[k]
        start = max(window_start, chunk.created[k])
        span = anchor - start - 1
        times = sorted(draws.times[position : position + count])
        refundable: list[tuple] = []  # purchases not refunded yet: (id, amount, columns...)
        for j in range(count):
            p = position + j
            kind = draws.kinds[p]
            if (kind == refund and not refundable) or (kind == repayment and not is_bank):
                kind = purchase
            u = draws.amounts[p]
            refund_of = None
            if kind == purchase:
                category = draws.categories[p]
                _, low, high, merchants = CATEGORIES[category]
                amount = max(0.01, round(low * (high / low) ** u, 2))
                merchant = merchants[int(draws.picks[p] * len(merchants))]
                channel, payment = draws.channels[p], draws.payments[p]
                refundable.append((ids[p], amount, category, merchant, channel, payment))
            elif kind == refund:
                original = refundable.pop(int(draws.picks[p] * len(refundable)))
                refund_of, full, category, merchant, channel, payment = original
                amount = full if u < 0.6 else max(0.01, round(full * u, 2))
            else:
                amount = round(500 * 40**u, 2)
                category, merchant = Transaction.Category.OTHER, "信用卡还款"
                channel = Transaction.Channel.APP if u < 0.8 else Transaction.Channel.BRANCH
                payment = Transaction.PaymentMethod.ACCOUNT
            if is_bank:
                source = Source.CORE_BANKING
            else:
                source = Source.POS if channel in in_store else Source.SHOP
            occurred = ts(start + int(span * times[j]))
            yield (
                ids[p],
                customer_id,
                kind,
                f"{amount:.2f}",
                "CNY",
                category,
                channel,
                payment,
                merchant,
                occurred,
                source,
                f"{DEMO_PREFIX}TX-{number:07d}-{j + 1:03d}",
                refund_of,
                occurred,
            )
        position += count


def _balances_write(
    *, rng: random.Random, chunk: _Chunk, anchor: int, writer: _Writer, **_rest: object
) -> int:
    """92 daily balances per bank customer: a level, a trend over the quarter and a wobble."""
    customer_ids = [cid for cid, bank in zip(chunk.ids, chunk.is_bank, strict=True) if bank]
    if not customer_ids:
        return 0
    n = len(customer_ids)
    # Median 25,000; about 28% average above 50,000, the usual "gold" threshold.
    levels = [rng.lognormvariate(math.log(25_000), 1.2) for _ in range(n)]
    trends = [u * 0.6 - 0.3 for u in _uniforms(rng, n)]
    phases = [u * 2 * math.pi for u in _uniforms(rng, n)]
    first_day = anchor // DAY - BALANCE_DAYS
    if writer.vendor == "postgresql":
        return _balances_insert_select(customer_ids, levels, trends, phases, first_day)
    rows = (
        (
            customer_ids[k],
            writer.timestamp.date(first_day + day),
            f"{_balance(levels[k], trends[k], phases[k], day):.2f}",
            "CNY",
        )
        for k in range(n)
        for day in range(BALANCE_DAYS)
    )
    return writer.write(BalanceSnapshot, ("customer", "date", "amount", "currency"), rows)


def _balance(level: float, trend: float, phase: float, day: int) -> float:
    return level * (1 + trend * day / (BALANCE_DAYS - 1)) * (1 + 0.03 * math.sin(day / 7 + phase))


def _balances_insert_select(
    customer_ids: list[int],
    levels: list[float],
    trends: list[float],
    phases: list[float],
    first_day: int,
) -> int:
    """The same formula as `_balance`, expanded to 92 days by PostgreSQL in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {BalanceSnapshot._meta.db_table} (customer_id, date, amount, currency)
            SELECT c.id, DATE '1970-01-01' + %(first_day)s + d,
                   round((c.level * (1 + c.trend * d / %(last)s)
                          * (1 + 0.03 * sin(d / 7.0 + c.phase)))::numeric, 2),
                   'CNY'
            FROM unnest(%(ids)s::bigint[], %(levels)s::float8[], %(trends)s::float8[],
                        %(phases)s::float8[]) AS c(id, level, trend, phase)
            CROSS JOIN generate_series(0, %(last)s) AS d
            """,  # noqa: S608 - the table name is the model's
            {
                "ids": customer_ids,
                "levels": levels,
                "trends": trends,
                "phases": phases,
                "first_day": first_day,
                "last": BALANCE_DAYS - 1,
            },
        )
        return cursor.rowcount


def _holdings_write(
    *, rng: random.Random, chunk: _Chunk, anchor: int, writer: _Writer, **_rest: object
) -> int:
    banked = [k for k, bank in enumerate(chunk.is_bank) if bank]
    counts = rng.choices(HOLDING_COUNTS, weights=HOLDING_COUNT_WEIGHTS, k=len(banked))
    total = sum(counts)
    types = rng.choices(list(PRODUCTS), weights=[p[0] for p in PRODUCTS.values()], k=total)
    amounts, picks, opened, closed = (_uniforms(rng, total) for _ in range(4))
    ts = writer.timestamp
    candidates = []
    position = 0
    for k, count in zip(banked, counts, strict=True):
        created_day = chunk.created[k] // DAY
        for j in range(count):
            p = position + j
            _, low, high, names = PRODUCTS[types[p]]
            opened_day = created_day + int(opened[p] * (anchor // DAY - created_day))
            closed_day = None
            if closed[p] < 0.08:
                closed_day = opened_day + int(closed[p] / 0.08 * (anchor // DAY - opened_day))
            candidates.append(
                (
                    chunk.ids[k],
                    types[p],
                    names[int(picks[p] * len(names))],
                    f"{round(low * (high / low) ** amounts[p], -2):.2f}",
                    "CNY",
                    ts.date(opened_day),
                    ts.date(closed_day) if closed_day is not None else None,
                    Source.CORE_BANKING,
                    f"{DEMO_PREFIX}H-{chunk.numbers[k]:07d}-{j + 1}",
                )
            )
        position += count
    ids = writer.reserve_ids(ProductHolding, len(candidates))
    rows = ((ids[k], *row) for k, row in enumerate(candidates))
    fields = HOLDING_FIELDS
    return writer.write(ProductHolding, fields, rows)


def _credit_events_write(
    *, rng: random.Random, chunk: _Chunk, anchor: int, writer: _Writer, **_rest: object
) -> int:
    n = len(chunk.ids)
    hit, when, resolved = _uniforms(rng, n), _uniforms(rng, n), _uniforms(rng, n)
    events = rng.choices(CREDIT_EVENTS, weights=[e[3] for e in CREDIT_EVENTS], k=n)
    ts = writer.timestamp
    candidates = []
    for k in range(n):
        # 1% of customers; four times as likely for bank customers, who hold loans and cards.
        if hit[k] >= (0.03 if chunk.is_bank[k] else 0.0075):
            continue
        kind, severity, note, _ = events[k]
        occurred = _between(chunk.created[k], anchor, when[k])
        is_resolved = severity == CreditEvent.Severity.MINOR and resolved[k] < 0.6
        candidates.append(
            (
                chunk.ids[k],
                kind,
                severity,
                ts(occurred),
                ts(min(anchor - 1, occurred + 20 * DAY)) if is_resolved else None,
                note,
            )
        )
    ids = writer.reserve_ids(CreditEvent, len(candidates))
    rows = ((ids[k], *row) for k, row in enumerate(candidates))
    fields = ("id", "customer", "kind", "severity", "occurred_at", "resolved_at", "note")
    return writer.write(CreditEvent, fields, rows)


def _interactions_write(
    *, rng: random.Random, chunk: _Chunk, anchor: int, writer: _Writer, **_rest: object
) -> int:
    n = len(chunk.ids)
    counts = rng.choices(INTERACTION_COUNTS, weights=INTERACTION_COUNT_WEIGHTS, k=n)
    total = sum(counts)
    kinds = rng.choices(list(INTERACTIONS), weights=[i[0] for i in INTERACTIONS.values()], k=total)
    picks, times = _uniforms(rng, total), _uniforms(rng, total)
    ids = writer.reserve_ids(Interaction, total)
    ts = writer.timestamp
    window_start = anchor - TRANSACTION_DAYS * DAY

    def rows() -> Iterator[tuple]:
        position = 0
        for k, count in enumerate(counts):
            start = max(window_start, chunk.created[k])
            for p in range(position, position + count):
                kind = kinds[p]
                if kind == Interaction.Kind.VISIT and not chunk.is_bank[k]:
                    kind = Interaction.Kind.CALL
                summaries = INTERACTIONS[kind][1]
                staff = chunk.owner_ids[k] if kind in STAFF_INTERACTIONS else None
                yield (
                    ids[p],
                    chunk.ids[k],
                    kind,
                    ts(_between(start, anchor, times[p])),
                    summaries[int(picks[p] * len(summaries))],
                    staff,
                )
            position += count

    fields = ("id", "customer", "kind", "occurred_at", "summary", "staff")
    return writer.write(Interaction, fields, rows())


def _preferences_write(
    *, rng: random.Random, chunk: _Chunk, anchor: int, writer: _Writer, **_rest: object
) -> int:
    n = len(chunk.ids)
    hit, when = _uniforms(rng, n), _uniforms(rng, n)
    texts = rng.choices(PREFERENCES, k=n)
    ts = writer.timestamp
    candidates = [
        (
            chunk.ids[k],
            texts[k],
            chunk.owner_ids[k],
            ts(_between(chunk.created[k], anchor, when[k])),
        )
        for k in range(n)
        if hit[k] < 0.1
    ]
    ids = writer.reserve_ids(Preference, len(candidates))
    rows = ((ids[k], *row) for k, row in enumerate(candidates))
    return writer.write(Preference, ("id", "customer", "text", "created_by", "created_at"), rows)


def _customer_tags_write(
    *,
    rng: random.Random,
    chunk: _Chunk,
    anchor: int,
    writer: _Writer,
    tags: list[tuple[int, int]],
    **_rest: object,
) -> int:
    """Some customers carry a manual tag or two; each tag on its own share of customers."""
    n = len(chunk.ids)
    ts = writer.timestamp
    candidates: list[tuple[int, int, str]] = []
    for tag_id, share in tags:
        hit, when = _uniforms(rng, n), _uniforms(rng, n)
        candidates.extend(
            (chunk.ids[k], tag_id, ts(_between(chunk.created[k], anchor, when[k])))
            for k in range(n)
            if hit[k] * 1000 < share
        )
    ids = writer.reserve_ids(CustomerTag, len(candidates))
    rows = ((ids[k], *row) for k, row in enumerate(candidates))
    return writer.write(CustomerTag, ("id", "customer", "tag", "tagged_at"), rows)
