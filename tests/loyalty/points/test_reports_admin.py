"""The points reports in admin: who may open them, what they show, their CSV exports."""

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from loyalty.models import Program, Reward
from tests.factories import UserFactory
from tests.loyalty.factories import ProgramFactory
from tests.loyalty.points.reports_fixtures import account, earn, liability_programs

pytestmark = pytest.mark.django_db
LIABILITY = reverse("admin:loyalty_points_liability")
BUYING_POWER = reverse("admin:loyalty_points_buying_power")
EARN_BURN = reverse("admin:loyalty_points_earn_burn")
PAGES = [LIABILITY, BUYING_POWER, EARN_BURN]
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(datetime(2026, 7, 15, 10, tzinfo=SHANGHAI), tick=False):
        yield


def rows(response):
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def with_permissions(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.mark.parametrize("url", PAGES)
def test_an_rm_is_refused_the_reports(client, rm, url):
    client.force_login(rm)
    assert client.get(url).status_code == 403
    assert client.get(url, {"format": "csv"}).status_code == 403


@pytest.mark.parametrize("url", PAGES)
def test_an_anonymous_visitor_is_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


@pytest.mark.parametrize("url", PAGES)
def test_a_supervisor_opens_the_reports(client, supervisor, url):
    ProgramFactory(code="bank", name="Bank")
    client.force_login(supervisor)
    response = client.get(url)
    assert response.status_code == 200
    assert "Bank" in response.content.decode()


def test_the_reports_are_linked_from_the_index_for_supervisors_only(client, rm, supervisor):
    client.force_login(supervisor)
    page = client.get(reverse("admin:index")).content.decode()
    assert all(url in page for url in PAGES)

    client.force_login(rm)
    page = client.get(reverse("admin:index")).content.decode()
    assert not any(url in page for url in PAGES)


def test_a_supervisors_liability_leaves_out_other_teams(client, rm, supervisor, foreign_rm):
    liability_programs(owner=rm, foreign_owner=foreign_rm)
    client.force_login(supervisor)

    response = client.get(LIABILITY)

    bank, shop = response.context["report"]
    assert (bank.points, bank.negative_points) == (2450, -80)
    assert shop.points == 0
    assert "other teams" in response.content.decode()


def test_a_user_who_sees_every_customer_gets_company_wide_figures(client, rm, foreign_rm):
    liability_programs(owner=rm, foreign_owner=foreign_rm)
    auditor = with_permissions(
        UserFactory(username="auditor"), "view_points_reports", "view_all_customers"
    )
    client.force_login(auditor)

    response = client.get(LIABILITY)

    bank, shop = response.context["report"]
    assert (bank.points, shop.points) == (2450, 400)
    assert "Company-wide" in response.content.decode()


def test_a_user_with_the_permission_only_sees_the_figures_of_their_own_customers(client, rm):
    program = ProgramFactory(code="bank")
    earn(account(program, owner=rm), 100, "rm-customer")
    analyst = with_permissions(UserFactory(username="analyst"), "view_points_reports")
    client.force_login(analyst)

    response = client.get(LIABILITY)

    assert response.status_code == 200
    assert response.context["report"][0].points == 0


def test_the_liability_export_escapes_formulas_and_keeps_numbers(client, rm, supervisor):
    bank, _shop = liability_programs(owner=rm)
    Program.objects.filter(pk=bank.pk).update(name='=HYPERLINK("http://evil.example","x")')
    client.force_login(supervisor)

    table = rows(client.get(LIABILITY, {"format": "csv"}))

    assert table[0] == ["section", "program", "tier or month", "accounts", "points", "value"]
    bank_rows = [row for row in table[1:] if row[1].startswith("'=HYPERLINK")]
    assert ["liability", bank_rows[0][1], "Gold", "2", "1700", "34.00"] in bank_rows
    assert ["liability", bank_rows[0][1], "total", "4", "2450", "49.00"] in bank_rows
    assert ["negative balances", bank_rows[0][1], "", "1", "-80", "-1.60"] in bank_rows
    assert ["expires", bank_rows[0][1], "overdue", "", "50", "1.00"] in bank_rows
    assert ["expires", bank_rows[0][1], "2026-08", "", "1200", "24.00"] in bank_rows
    assert not any(row[1].startswith("=") for row in table)


def test_the_buying_power_page_warns_and_exports(client, supervisor):
    program = ProgramFactory(code="bank", name="@SUM(A1)")
    with time_machine.travel(datetime(2025, 3, 1, 10, tzinfo=SHANGHAI), tick=False):
        item = Reward.objects.create(program=program, name="Tea", points_price=1000, value="10.00")
    item.points_price = 1100
    item.save()  # today: 9.09, 9.1% less
    client.force_login(supervisor)

    page = client.get(BUYING_POWER)
    table = rows(client.get(BUYING_POWER, {"format": "csv"}))

    assert 'class="warning"' in page.content.decode()
    assert "Lost more than 5%" in page.content.decode()
    assert table[1:] == [
        ["'@SUM(A1)", "2025", "1", "10.00", "", ""],
        ["'@SUM(A1)", "2026", "1", "9.09", "-9.10", "yes"],
    ]


def test_the_earn_and_burn_page_shows_the_chosen_months_and_exports_them(client, supervisor, rm):
    program = ProgramFactory(code="bank", name="Bank")
    earn(account(program, owner=rm), 70, "may", occurred_on=date(2026, 5, 3))
    client.force_login(supervisor)

    page = client.get(EARN_BURN, {"first": "2026-04", "last": "2026-05"})
    table = rows(client.get(EARN_BURN, {"first": "2026-04", "last": "2026-05", "format": "csv"}))

    (item,) = page.context["report"]
    assert [month.month for month in item.months] == [date(2026, 4, 1), date(2026, 5, 1)]
    assert table[1:] == [
        ["Bank", "2026-04", "0", "0", "0", "0", "0", "0", "0", "0"],
        ["Bank", "2026-05", "70", "0", "0", "0", "0", "0", "0", "70"],
    ]


def test_the_earn_and_burn_page_defaults_to_the_last_twelve_months(client, supervisor):
    ProgramFactory(code="bank")
    client.force_login(supervisor)

    (item,) = client.get(EARN_BURN).context["report"]

    assert item.months[0].month == date(2025, 8, 1)
    assert item.months[-1].month == date(2026, 7, 1)


@pytest.mark.parametrize(
    ("first", "last"),
    [("2026-05", "2026-04"), ("2020-01", "2026-07"), ("May", "2026-07"), ("", "")],
)
def test_a_bad_month_range_shows_errors_and_no_figures(client, supervisor, first, last):
    ProgramFactory(code="bank")
    client.force_login(supervisor)

    page = client.get(EARN_BURN, {"first": first, "last": last})
    export = client.get(EARN_BURN, {"first": first, "last": last, "format": "csv"})

    assert page.status_code == 200
    assert page.context["report"] is None
    assert page.context["form"].errors
    assert export.status_code == 400


@pytest.mark.parametrize("url", PAGES)
def test_a_report_takes_as_many_queries_for_many_programs_and_accounts(client, supervisor, rm, url):
    client.force_login(supervisor)
    program = ProgramFactory(code="bank")
    earn(account(program, owner=rm), 10, "one", occurred_on=date(2026, 7, 1))
    client.get(url)  # warm the session and content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200

    for code in ("shop", "club"):
        other = ProgramFactory(code=code)
        Reward.objects.create(program=other, name="Tea", points_price=100, value="1.00")
        for index in range(5):
            earn(account(other, owner=rm), 10 + index, f"{code}-{index}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200

    assert len(many) == len(few)
