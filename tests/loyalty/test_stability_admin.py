"""Unusual spends in admin: an RM sees their customers' flags and accepts or rejects them."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from loyalty.models import StabilityFlag
from tests.factories import CustomerFactory, TransactionFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:loyalty_stabilityflag_changelist")


def make_flag(owner, amount: str = "900.00", **kwargs) -> StabilityFlag:
    customer = CustomerFactory(owner=owner)
    purchase = TransactionFactory(customer=customer, amount=Decimal(amount))
    return StabilityFlag.objects.create(
        transaction=purchase,
        customer=customer,
        amount=purchase.amount,
        monthly_median=Decimal("100.00"),
        flagged_on=date(2026, 3, 31),
        **kwargs,
    )


def test_an_rm_sees_the_flags_of_their_customers_only(client, rm, foreign_rm):
    mine = make_flag(rm)
    make_flag(foreign_rm)
    client.force_login(rm)

    response = client.get(CHANGELIST)

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [mine]
    page = response.content.decode()
    assert "9.0" in page  # 900 is 9 times the median of 100


def test_another_rms_flag_is_not_found(client, rm, foreign_rm):
    theirs = make_flag(foreign_rm)
    client.force_login(rm)

    response = client.get(reverse("admin:loyalty_stabilityflag_change", args=[theirs.pk]))

    assert response.status_code == 404


def test_an_rm_opens_their_flag_read_only(client, rm):
    flag = make_flag(rm)
    client.force_login(rm)

    response = client.get(reverse("admin:loyalty_stabilityflag_change", args=[flag.pk]))

    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}


def test_the_spends_waiting_for_review_come_first(client, rm):
    reviewed = make_flag(rm, status=StabilityFlag.Status.ACCEPTED)
    waiting = make_flag(rm)
    reviewed_later = make_flag(rm, status=StabilityFlag.Status.REJECTED, comment="Fraud")
    client.force_login(rm)

    response = client.get(CHANGELIST)

    assert list(response.context["cl"].result_list) == [waiting, reviewed_later, reviewed]


def test_an_rm_accepts_a_spend_of_their_customer(client, rm):
    flag = make_flag(rm)
    client.force_login(rm)

    response = client.post(
        CHANGELIST, {"action": "accept_selected", "_selected_action": [flag.pk], "index": 0}
    )

    assert response.status_code == 302
    flag.refresh_from_db()
    assert (flag.status, flag.reviewed_by) == (StabilityFlag.Status.ACCEPTED, rm)


def test_an_rm_cannot_accept_another_rms_flag_by_posting_its_id(client, rm, foreign_rm):
    theirs = make_flag(foreign_rm)
    client.force_login(rm)

    client.post(
        CHANGELIST, {"action": "accept_selected", "_selected_action": [theirs.pk], "index": 0}
    )

    theirs.refresh_from_db()
    assert theirs.status == StabilityFlag.Status.PENDING


def test_a_rejection_asks_for_the_reason_first(client, rm):
    flag = make_flag(rm)
    client.force_login(rm)

    response = client.post(
        CHANGELIST, {"action": "reject_selected", "_selected_action": [flag.pk], "index": 0}
    )

    assert response.status_code == 200
    assert response.template_name == "admin/loyalty/stabilityflag/reject_selected.html"
    assert list(response.context["flags"]) == [flag]
    flag.refresh_from_db()
    assert flag.status == StabilityFlag.Status.PENDING


def test_an_rm_rejects_a_spend_with_a_comment(client, rm):
    flag = make_flag(rm)
    client.force_login(rm)

    response = client.post(
        CHANGELIST,
        {
            "action": "reject_selected",
            "_selected_action": [flag.pk],
            "confirm": "yes",
            "comment": "Paid for a friend's car",
        },
    )

    assert response.status_code == 302
    flag.refresh_from_db()
    assert (flag.status, flag.reviewed_by, flag.comment) == (
        StabilityFlag.Status.REJECTED,
        rm,
        "Paid for a friend's car",
    )


def test_a_rejection_without_a_comment_is_asked_again(client, rm):
    flag = make_flag(rm)
    client.force_login(rm)

    response = client.post(
        CHANGELIST,
        {
            "action": "reject_selected",
            "_selected_action": [flag.pk],
            "confirm": "yes",
            "comment": "",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["comment"]
    flag.refresh_from_db()
    assert flag.status == StabilityFlag.Status.PENDING


def test_a_reviewed_spend_is_not_reviewed_again(client, rm):
    flag = make_flag(rm, status=StabilityFlag.Status.REJECTED, comment="Fraud")
    client.force_login(rm)

    client.post(
        CHANGELIST, {"action": "accept_selected", "_selected_action": [flag.pk], "index": 0}
    )

    flag.refresh_from_db()
    assert flag.status == StabilityFlag.Status.REJECTED


def test_no_one_adds_or_deletes_a_flag(client, supervisor):
    client.force_login(supervisor)

    assert client.get(reverse("admin:loyalty_stabilityflag_add")).status_code == 403
    response = client.get(CHANGELIST)
    assert "delete_selected" not in response.context["action_form"].fields["action"].choices


def test_the_list_reads_the_same_number_of_queries_for_any_number_of_rows(
    client, rm, django_assert_num_queries
):
    client.force_login(rm)
    make_flag(rm)
    with CaptureQueriesContext(connection) as one_row:
        assert client.get(CHANGELIST).status_code == 200
    for _ in range(15):
        make_flag(rm, status=StabilityFlag.Status.ACCEPTED, reviewed_by=rm)

    # Session, user, the user's and their groups' permissions, their supervised teams
    # (visibility), the capped count, the page with customer, transaction and reviewer joined:
    # 7, for 1 row as for 16.
    assert len(one_row) == 7
    with django_assert_num_queries(7):
        response = client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == 16
