"""Column headers to fields, per kind of file, in English and Chinese; and choice values.

Built-in headers cover the names Chinese banks' and shops' exports use; a source's own headers
are ColumnMapping rows, which win over the built-in ones.
"""

import unicodedata
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.db.models import Choices
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm.imports import cleaning
from crm.imports.reading import Row
from crm.models import ColumnMapping, Customer, ImportJob, ProductHolding, Transaction

HEADER_SEARCH_ROWS = 20  # a title or a merged group header may sit above the real header

Kind = ImportJob.Kind


@dataclass(frozen=True)
class Field:
    name: str
    label: Promise | str
    clean: Callable[[Any], Any]
    headers: tuple[str, ...]
    required: bool = False


@dataclass
class Header:
    """The header row found: its number, the column of each field, the headers not used."""

    row_number: int
    columns: dict[str, int]
    titles: dict[str, str]
    unused: list[str] = field(default_factory=list)


class HeaderNotFound(ValueError):
    pass


def header_normalize(text: Any) -> str:
    """`交易金额（元）*`, ` Amount ` and `AMOUNT` compare equal to `交易金额` / `amount`."""
    header = unicodedata.normalize("NFKC", cleaning.text_of(text)).lower()
    header = "".join(header.split()).strip("*")
    if header.endswith(")") and "(" in header:
        header = header[: header.rindex("(")]
    return header


def _text(max_length: int) -> Callable[[Any], str]:
    return lambda value: cleaning.clean_text(value, max_length=max_length)


@cache
def fields_of(kind: str) -> tuple[Field, ...]:
    return _FIELD_BUILDERS[kind]()


def field_choices(kind: str) -> list[tuple[str, Promise | str]]:
    return [(item.name, item.label) for item in fields_of(kind)]


def required_fields(kind: str) -> set[str]:
    return {item.name for item in fields_of(kind) if item.required}


def header_find(
    rows: Generator[tuple[int, Row]], *, kind: str, source: str
) -> tuple[Header, Generator[tuple[int, Row]]]:
    """The first row whose cells name every required field, within the first rows; the rows
    after it come from the returned iterator."""
    known = _known_headers(kind, source)
    needed = required_fields(kind)
    searched = 0
    for number, cells in rows:
        if all(cleaning.is_blank(cell) for cell in cells):
            continue
        header = _header_of(number, cells, known)
        if needed <= header.columns.keys():
            return header, rows
        searched += 1
        if searched >= HEADER_SEARCH_ROWS:
            break
    labels = ", ".join(str(item.label) for item in fields_of(kind) if item.required)
    raise HeaderNotFound(
        _("No header row names the required columns: %(columns)s.") % {"columns": labels}
    )


def _header_of(number: int, cells: Row, known: dict[str, str]) -> Header:
    header = Header(row_number=number, columns={}, titles={})
    for index, cell in enumerate(cells):
        if cleaning.is_blank(cell):
            continue
        name = known.get(header_normalize(cell))
        if name is None or name in header.columns:
            header.unused.append(cleaning.text_of(cell))
            continue
        header.columns[name] = index
        header.titles[name] = cleaning.text_of(cell)
    return header


def _known_headers(kind: str, source: str) -> dict[str, str]:
    known = {header_normalize(name): item.name for item in fields_of(kind) for name in item.headers}
    for item in fields_of(kind):
        known.setdefault(header_normalize(item.name), item.name)
    own = ColumnMapping.objects.filter(source=source, kind=kind).values_list("header", "field")
    valid = {item.name for item in fields_of(kind)}
    known.update({header_normalize(header): name for header, name in own if name in valid})
    return known


# --- choice values --------------------------------------------------------------------------

_CATEGORY_WORDS = {
    "餐饮": "dining",
    "美食": "dining",
    "超市": "supermarket",
    "商超": "supermarket",
    "母婴": "mother_and_baby",
    "旅行": "travel",
    "旅游": "travel",
    "出行": "travel",
    "数码": "electronics",
    "电子产品": "electronics",
    "服饰": "fashion",
    "服装": "fashion",
    "医疗": "health",
    "健康": "health",
    "教育": "education",
    "家居": "home",
    "其他": "other",
    "其它": "other",
}
_CHANNEL_WORDS = {
    "线上": "online",
    "网上": "online",
    "门店": "store",
    "线下": "store",
    "线下门店": "store",
    "刷卡": "pos",
    "手机银行": "app",
    "网点": "branch",
    "柜台": "branch",
}
_PAYMENT_WORDS = {
    "信用卡": "card",
    "借记卡": "card",
    "银行卡": "card",
    "账户": "account",
    "转账": "account",
    "微信": "wallet",
    "微信支付": "wallet",
    "支付宝": "wallet",
    "移动支付": "wallet",
    "现金": "cash",
}
_TRANSACTION_KIND_WORDS = {
    "消费": "purchase",
    "购买": "purchase",
    "退款": "refund",
    "退货": "refund",
    "还款": "card_repayment",
    "存款": "deposit",
    "存入": "deposit",
    "取款": "withdrawal",
    "取现": "withdrawal",
    "转入": "transfer_in",
    "转出": "transfer_out",
}
_CUSTOMER_KIND_WORDS = {
    "个人": "individual",
    "企业": "business",
    "公司": "business",
    "对公": "business",
}
_PRODUCT_WORDS = {
    "理财": "wealth_management",
    "理财产品": "wealth_management",
    "保险": "insurance",
    "基金": "fund",
    "定期": "deposit",
    "定期存款": "deposit",
    "贷款": "loan",
    "信用卡": "credit_card",
}


def choice_values(choices_class: type[Choices], words: dict[str, str]) -> dict[str, str]:
    """Every spelling of a choice: its value, its English and Chinese labels, common words."""
    values: dict[str, str] = {}
    for value, label in choices_class.choices:
        values[value] = value
        for language in ("en", "zh-hans"):
            with translation.override(language):
                values[str(label).lower()] = value
    values.update(words)
    return values


def _choice_of(choices_class: type[Choices], words: dict[str, str]) -> Callable[[Any], str]:
    """The cleaner is built on first use: the Chinese labels need the translation catalog."""
    cleaner: Callable[[Any], str] | None = None

    def clean_choice(value: Any) -> str:
        nonlocal cleaner
        if cleaner is None:
            cleaner = cleaning.choice_cleaner(choice_values(choices_class, words))
        return cleaner(value)

    return clean_choice


# --- the fields of each kind ----------------------------------------------------------------


def _customer_fields() -> tuple[Field, ...]:
    return (
        Field(
            "external_id",
            _("customer id"),
            cleaning.clean_code,
            ("客户编号", "外部编号", "客户号", "external_id", "customer id", "customer_id", "id"),
            required=True,
        ),
        Field(
            "name",
            _("name"),
            _text(200),
            ("姓名", "客户名称", "客户姓名", "名称", "name", "customer name"),
            required=True,
        ),
        Field(
            "phone",
            _("mobile phone"),
            cleaning.clean_mobile,
            ("手机", "手机号", "手机号码", "联系电话", "电话", "mobile", "phone"),
        ),
        Field("email", _("e-mail"), cleaning.clean_email, ("邮箱", "电子邮箱", "email", "e-mail")),
        Field(
            "birth_date",
            _("birth date"),
            cleaning.clean_date,
            ("出生日期", "生日", "birth_date", "birth date", "birthday"),
        ),
        Field(
            "kind",
            _("kind"),
            _choice_of(Customer.Kind, _CUSTOMER_KIND_WORDS),
            ("类型", "客户类型", "kind", "type"),
        ),
        Field(
            "is_student",
            _("student"),
            cleaning.clean_boolean,
            ("学生", "是否学生", "is_student", "student"),
        ),
        Field(
            "owner",
            _("relationship manager (user name)"),
            cleaning.clean_code,
            ("客户经理", "客户经理账号", "owner", "rm"),
        ),
    )


def _customer_id_field() -> Field:
    """The column that names the customer by their id in the file's source system."""
    return Field(
        "customer_external_id",
        _("customer id"),
        cleaning.clean_code,
        ("客户编号", "客户号", "customer id", "customer_id", "customer"),
        required=True,
    )


def _transaction_fields() -> tuple[Field, ...]:
    return (
        Field(
            "external_id",
            _("transaction id"),
            cleaning.clean_code,
            ("交易编号", "流水号", "交易流水号", "订单号", "external_id", "transaction id", "id"),
            required=True,
        ),
        _customer_id_field(),
        Field(
            "amount",
            _("amount"),
            cleaning.clean_positive_amount,
            ("金额", "交易金额", "消费金额", "amount"),
            required=True,
        ),
        Field("currency", _("currency"), cleaning.clean_currency, ("币种", "货币", "currency")),
        Field(
            "category",
            _("category"),
            _choice_of(Transaction.Category, _CATEGORY_WORDS),
            ("类别", "消费类别", "交易类别", "category"),
        ),
        Field(
            "channel",
            _("channel"),
            _choice_of(Transaction.Channel, _CHANNEL_WORDS),
            ("渠道", "交易渠道", "channel"),
        ),
        Field(
            "payment_method",
            _("payment method"),
            _choice_of(Transaction.PaymentMethod, _PAYMENT_WORDS),
            ("支付方式", "payment method", "payment_method"),
        ),
        Field(
            "merchant",
            _("merchant"),
            _text(200),
            ("商户", "商户名称", "merchant"),
        ),
        Field(
            "occurred_at",
            _("occurred at"),
            cleaning.clean_datetime,
            ("交易时间", "交易日期", "时间", "occurred_at", "occurred at", "time", "date"),
            required=True,
        ),
        Field(
            "kind",
            _("kind"),
            _choice_of(Transaction.Kind, _TRANSACTION_KIND_WORDS),
            ("交易类型", "kind", "type"),
        ),
        Field(
            "refund_of",
            _("refund of (transaction id)"),
            cleaning.clean_code,
            ("原交易编号", "原流水号", "refund_of", "refund of", "original id"),
        ),
    )


def _balance_fields() -> tuple[Field, ...]:
    return (
        _customer_id_field(),
        Field(
            "date",
            _("date"),
            cleaning.clean_date,
            ("日期", "余额日期", "统计日期", "date"),
            required=True,
        ),
        Field(
            "amount",
            _("assets"),
            cleaning.clean_amount,
            ("资产", "余额", "总资产", "资产余额", "amount", "assets", "balance"),
            required=True,
        ),
        Field("currency", _("currency"), cleaning.clean_currency, ("币种", "货币", "currency")),
    )


def _holding_fields() -> tuple[Field, ...]:
    return (
        Field(
            "external_id",
            _("holding id"),
            cleaning.clean_code,
            ("持仓编号", "持仓号", "external_id", "holding id", "id"),
            required=True,
        ),
        _customer_id_field(),
        Field(
            "product_type",
            _("product type"),
            _choice_of(ProductHolding.ProductType, _PRODUCT_WORDS),
            ("产品类型", "product type", "product_type"),
            required=True,
        ),
        Field(
            "product_name",
            _("product"),
            _text(200),
            ("产品名称", "产品", "product", "product name", "product_name"),
            required=True,
        ),
        Field("amount", _("amount"), cleaning.clean_amount, ("金额", "持仓金额", "amount")),
        Field("currency", _("currency"), cleaning.clean_currency, ("币种", "货币", "currency")),
        Field(
            "opened_on",
            _("opened on"),
            cleaning.clean_date,
            ("起始日期", "开始日期", "起息日", "opened_on", "opened on", "start date"),
            required=True,
        ),
        Field(
            "closed_on",
            _("closed on"),
            cleaning.clean_date,
            ("到期日期", "到期", "结束日期", "到期日", "closed_on", "closed on", "end date"),
        ),
    )


_FIELD_BUILDERS: dict[str, Callable[[], tuple[Field, ...]]] = {
    Kind.CUSTOMERS: _customer_fields,
    Kind.TRANSACTIONS: _transaction_fields,
    Kind.BALANCES: _balance_fields,
    Kind.HOLDINGS: _holding_fields,
}
