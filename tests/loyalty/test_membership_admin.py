"""Memberships in admin and on the customer's page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from loyalty.models import DowngradeWarning, Membership, MembershipChange
from loyalty.services.evaluation import program_evaluate
from tests.factories import CustomerFactory, TransactionFactory
from tests.loyalty.factories import (
    ConditionFactory,
    CriterionGroupFactory,
    ProgramFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(db):
    program = ProgramFactory(code="bank", name="Bank")
    CriterionGroupFactory(tier=TierFactory(program=program, rank=1, name="Member"))
    gold = TierFactory(program=program, rank=3, name="Gold")
    ConditionFactory(group=CriterionGroupFactory(tier=gold), parameters={})
    return program


def test_the_panel_shows_the_tier_and_its_history_on_the_customer_page(client, rm, program):
    customer = CustomerFactory(owner=rm, name="钱多多")
    program_evaluate(program_id=program.pk, as_of=timezone.localdate())
    client.force_login(rm)

    page = client.get(reverse("admin:crm_customer_change", args=[customer.pk])).content.decode()

    assert 'id="panel-loyalty_memberships"' in page
    assert "Bank: Member (1★)" in page


def test_the_membership_list_is_scoped_to_the_rms_customers(client, rm, foreign_rm, program):
    mine = CustomerFactory(owner=rm, name="我的客户")
    CustomerFactory(owner=foreign_rm, name="别人的客户")
    program_evaluate(program_id=program.pk, as_of=timezone.localdate())
    assert Membership.objects.count() == 2
    client.force_login(rm)

    response = client.get(reverse("admin:loyalty_membership_changelist"))

    assert response.status_code == 200
    assert [m.customer for m in response.context["cl"].result_list] == [mine]
    changes = client.get(reverse("admin:loyalty_membershipchange_changelist"))
    assert [c.customer for c in changes.context["cl"].result_list] == [mine]


def test_a_supervisor_evaluates_a_customer_now_and_history_names_them(
    client, supervisor, rm, program
):
    customer = CustomerFactory(owner=rm)
    program_evaluate(program_id=program.pk, as_of=timezone.localdate())
    TransactionFactory(customer=customer, amount="30000.00")
    membership = Membership.objects.get(customer=customer)
    client.force_login(supervisor)

    response = client.post(
        reverse("admin:loyalty_membership_changelist"),
        {"action": "evaluate_now", "_selected_action": [membership.pk]},
    )

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.tier.rank == 3
    change = MembershipChange.objects.order_by("-id").first()
    assert (change.changed_by, change.from_tier.rank, change.run) == (supervisor, 1, None)


def test_an_rm_may_not_evaluate_now(client, rm, program):
    customer = CustomerFactory(owner=rm)
    program_evaluate(program_id=program.pk, as_of=timezone.localdate())
    TransactionFactory(customer=customer, amount="30000.00")
    client.force_login(rm)

    client.post(
        reverse("admin:loyalty_membership_changelist"),
        {
            "action": "evaluate_now",
            "_selected_action": [Membership.objects.get(customer=customer).pk],
        },
    )

    assert Membership.objects.get(customer=customer).tier.rank == 1


def test_supervisor_opens_the_evaluation_runs(client, supervisor, program):
    program_evaluate(program_id=program.pk, as_of=timezone.localdate())
    client.force_login(supervisor)
    assert client.get(reverse("admin:loyalty_evaluationrun_changelist")).status_code == 200


def test_the_panel_reads_a_bounded_number_of_rows(rm, program, django_assert_num_queries):
    from loyalty.panels import LAST_CHANGES, memberships_context

    customer = CustomerFactory(owner=rm)
    membership = Membership.objects.create(
        customer=customer, program=program, tier=program.tiers.get(rank=1), since="2026-01-01"
    )
    for day in range(1, 9):
        MembershipChange.objects.create(
            membership=membership,
            customer=customer,
            program=program,
            to_tier=membership.tier,
            evaluated_on=f"2026-01-{day:02d}",
        )
    with django_assert_num_queries(QUERIES_PER_PROGRAM + 1):  # + the active programs
        [explanation] = memberships_context(customer, None)["explanations"]
    assert len(explanation.changes) == LAST_CHANGES
    assert str(explanation.changes[0].evaluated_on) == "2026-01-08"


# The rules (3); the evaluation's SELECT for the customer (no scratch table: a read writes
# nothing); the membership, whether the next run is the month's first, the nightly schedule,
# the last changes, the last warnings.
QUERIES_PER_PROGRAM = 3 + 1 + 5


def _warn(membership: Membership) -> DowngradeWarning:
    today = timezone.localdate()
    return DowngradeWarning.objects.create(
        membership=membership,
        customer=membership.customer,
        program=membership.program,
        tier=membership.tier,
        opened_on=today,
        deadline=today + timedelta(days=30),
    )


@pytest.mark.parametrize("others", [1, 8])
@pytest.mark.parametrize(
    "changelist",
    [
        "admin:loyalty_downgradewarning_changelist",
        "admin:loyalty_membership_changelist",
        "admin:loyalty_membershipchange_changelist",
    ],
)
def test_the_lists_are_scoped_and_their_queries_bounded(
    client, rm, foreign_rm, program, others, changelist, django_assert_max_num_queries
):
    mine = [CustomerFactory(owner=rm) for _ in range(others)]
    theirs = CustomerFactory(owner=foreign_rm)
    program_evaluate(program_id=program.pk, as_of=timezone.localdate())
    for membership in Membership.objects.select_related("customer", "program", "tier"):
        _warn(membership)
    client.force_login(rm)

    with django_assert_max_num_queries(12):
        response = client.get(reverse(changelist))

    assert response.status_code == 200
    customers = {row.customer for row in response.context["cl"].result_list}
    assert customers == set(mine)
    assert theirs not in customers


def test_a_supervisor_evaluates_now_from_the_customers_page(client, supervisor, rm, program):
    customer = CustomerFactory(owner=rm)
    program_evaluate(program_id=program.pk, as_of=timezone.localdate())
    TransactionFactory(customer=customer, amount="30000.00")
    client.force_login(supervisor)
    customer_page = reverse("admin:crm_customer_change", args=[customer.pk])
    evaluate = reverse("admin:loyalty_membership_evaluate", args=[customer.pk, program.pk])

    assert evaluate in client.get(customer_page).content.decode()
    assert client.get(evaluate).status_code == 200  # the confirmation
    assert Membership.objects.get(customer=customer).tier.rank == 1
    response = client.post(evaluate, follow=True)

    assert response.redirect_chain == [(customer_page, 302)]
    assert "Bank: now Gold." in response.content.decode()
    change = MembershipChange.objects.filter(customer=customer).latest("id")
    assert (change.changed_by, change.to_tier.rank) == (supervisor, 3)


def test_evaluate_now_is_refused_to_an_rm_and_hidden_from_other_teams(
    client, rm, foreign_rm, supervisor, program
):
    mine = CustomerFactory(owner=rm)
    theirs = CustomerFactory(owner=foreign_rm)
    program_evaluate(program_id=program.pk, as_of=timezone.localdate())

    client.force_login(rm)
    evaluate_mine = reverse("admin:loyalty_membership_evaluate", args=[mine.pk, program.pk])
    page = client.get(reverse("admin:crm_customer_change", args=[mine.pk])).content.decode()
    assert evaluate_mine not in page
    assert client.post(evaluate_mine).status_code == 403

    client.force_login(supervisor)
    evaluate_theirs = reverse("admin:loyalty_membership_evaluate", args=[theirs.pk, program.pk])
    assert client.post(evaluate_theirs).status_code == 404
    assert not MembershipChange.objects.filter(changed_by__isnull=False).exists()
