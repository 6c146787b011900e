"""Balances upsert on (customer, day); holdings on (source, external id)."""

from datetime import date
from decimal import Decimal

import pytest

from crm.models import BalanceSnapshot, ImportJob, ProductHolding, Source
from tests.crm.imports.conftest import csv_bytes, import_now, refused
from tests.factories import SourceRecordFactory


@pytest.fixture
def customer(db):
    return SourceRecordFactory(source=Source.CORE_BANKING, external_id="CB-1").customer


@pytest.mark.django_db
def test_balances_are_created_then_updated_only_where_changed(customer):
    rows = [
        ["客户编号", "日期", "资产", "币种"],
        ["CB-1", "2025/3/7", "¥52,000.00", ""],
        ["CB-1", "2025/3/8", "0", ""],
    ]
    first = import_now(csv_bytes(rows), kind=ImportJob.Kind.BALANCES)
    assert first.rows_created == 2

    rows[1][2] = "53000"
    rows.append(["CB-1", "2025-03-08", "1", ""])
    second = import_now(csv_bytes(rows), kind=ImportJob.Kind.BALANCES)

    assert (second.rows_created, second.rows_updated, second.rows_unchanged) == (0, 1, 1)
    assert refused(second) == [(4, "客户编号", "Row 3 has the same customer and date.")]
    assert BalanceSnapshot.objects.get(date=date(2025, 3, 7)).amount == Decimal("53000.00")
    assert BalanceSnapshot.objects.get(date=date(2025, 3, 8)).amount == Decimal("0.00")


@pytest.mark.django_db
def test_holdings_upsert_on_their_id(customer):
    header = ["持仓编号", "客户编号", "产品类型", "产品名称", "金额", "起始日期", "到期"]
    rows = [
        header,
        ["H-1", "CB-1", "理财", "稳健增长1号", "20,000", "2025-01-02", ""],
        ["H-2", "CB-1", "股票", "某股票", "1", "2025-01-02", ""],
        ["H-3", "CB-1", "保险", "平安福", "1", "2025-01-02", "2024-12-31"],
    ]
    first = import_now(csv_bytes(rows), kind=ImportJob.Kind.HOLDINGS)
    assert first.rows_created == 1
    assert refused(first)[0][:2] == (3, "产品类型")
    assert refused(first)[1] == (4, "到期", "The holding ends before it starts.")

    rows[1][6] = "2026-01-02"
    second = import_now(csv_bytes(rows[:2]), kind=ImportJob.Kind.HOLDINGS)
    third = import_now(csv_bytes(rows[:2]), kind=ImportJob.Kind.HOLDINGS)

    holding = ProductHolding.objects.get()
    assert holding.product_type == ProductHolding.ProductType.WEALTH_MANAGEMENT
    assert holding.amount == Decimal("20000.00")
    assert holding.closed_on == date(2026, 1, 2)
    assert (second.rows_updated, third.rows_unchanged) == (1, 1)
