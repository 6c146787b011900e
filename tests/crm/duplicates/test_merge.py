"""Merging: everything the duplicate owns moves, clashes resolve, history and rights hold."""

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from simple_history.models import HistoricalChanges

from crm.models import (
    BalanceSnapshot,
    Consent,
    Customer,
    CustomerMerge,
    CustomerTag,
    DuplicatePair,
    Preference,
    Segment,
    Transaction,
)
from crm.services.merges import NOT_OWNERSHIP, customer_merge
from loyalty.models import (
    Benefit,
    BenefitAllowance,
    DowngradeWarning,
    GracePeriod,
    Membership,
    MembershipChange,
    Referral,
    StabilityFlag,
    Tier,
)
from loyalty.services.ledger import account_get_or_create
from tests.factories import (
    BalanceSnapshotFactory,
    ConsentFactory,
    CreditEventFactory,
    CustomerFactory,
    InteractionFactory,
    PreferenceFactory,
    ProductHoldingFactory,
    SourceRecordFactory,
    TagFactory,
    TransactionFactory,
    UserFactory,
    make_rm,
    make_supervisor,
)
from tests.loyalty.factories import ProgramFactory
from workflows.models import (
    AdoptedSuggestion,
    Campaign,
    CampaignMember,
    CareSequence,
    Enrollment,
    ExperienceOfficer,
    FeedbackAnswer,
    FeedbackForm,
    FeedbackInvitation,
    FeedbackResponse,
    FormVersion,
    Message,
    SensitiveEvent,
    Ticket,
)
from workflows.models.outbox import Channel, Purpose

CHANNELS = list(Consent.Channel)


# One way to give a customer its `n`-th row of each relation that points at Customer (rows that
# do not clash with each other). A relation added later (by crm or another app) makes
# test_every_relation_to_customer_is_covered fail until it has a builder here, so that the merge
# test below proves its rows move too.
OWNED_ROW_BUILDERS = {
    "crm.SourceRecord.customer": lambda c, n: SourceRecordFactory(customer=c),
    "crm.Transaction.customer": lambda c, n: TransactionFactory(customer=c),
    "crm.BalanceSnapshot.customer": lambda c, n: BalanceSnapshotFactory(customer=c),
    "crm.ProductHolding.customer": lambda c, n: ProductHoldingFactory(customer=c),
    "crm.CreditEvent.customer": lambda c, n: CreditEventFactory(customer=c),
    "crm.Interaction.customer": lambda c, n: InteractionFactory(customer=c),
    "crm.Preference.customer": lambda c, n: PreferenceFactory(customer=c),
    "crm.Consent.customer": lambda c, n: ConsentFactory(customer=c, channel=CHANNELS[n]),
    "crm.CustomerTag.customer": lambda c, n: CustomerTag.objects.create(
        customer=c, tag=TagFactory()
    ),
    "loyalty.Membership.customer": lambda c, n: _membership(c, n),
    "loyalty.MembershipChange.customer": lambda c, n: MembershipChange.objects.create(
        membership=_membership(c, n),
        customer=c,
        program=_membership(c, n).program,
        to_tier=_membership(c, n).tier,
        evaluated_on=date(2026, 1, 1),
        kind=MembershipChange.Kind.JOINED,
    ),
    "loyalty.DowngradeWarning.customer": lambda c, n: DowngradeWarning.objects.create(
        membership=_membership(c, n),
        customer=c,
        program=_membership(c, n).program,
        tier=_membership(c, n).tier,
        opened_on=date(2026, 1, 1),
        deadline=date(2026, 2, 1),
    ),
    "loyalty.GracePeriod.customer": lambda c, n: GracePeriod.objects.create(
        customer=c,
        program=_membership(c, n).program,
        months=1,
        reason=GracePeriod.Reason.ILLNESS,
        requested_by=UserFactory(),
    ),
    "loyalty.StabilityFlag.customer": lambda c, n: StabilityFlag.objects.create(
        # One of the customer's transactions made by the builder above.
        transaction=Transaction.objects.filter(customer=c, stability_flag__isnull=True).first(),
        customer=c,
        amount=Decimal("1000"),
        monthly_median=Decimal("100"),
        flagged_on=date(2026, 1, 1),
    ),
    "loyalty.PointsAccount.customer": lambda c, n: account_get_or_create(
        customer_id=c.pk, program_id=_membership(c, n).program_id
    ),
    "loyalty.BenefitAllowance.customer": lambda c, n: BenefitAllowance.objects.create(
        customer=c,
        benefit=Benefit.objects.get_or_create(
            tier=_membership(c, n).tier, code="checkup", defaults={"name": "Checkup", "quota": 3}
        )[0],
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        quota=3,
    ),
    "loyalty.Referral.referred": lambda c, n: Referral.objects.create(
        program=_membership(c, n).program, referrer=CustomerFactory(), referred=c
    ),
    "loyalty.Referral.referrer": lambda c, n: Referral.objects.create(
        program=_membership(c, n).program, referrer=c, referred=CustomerFactory()
    ),
    "workflows.Message.customer": lambda c, n: Message.objects.create(
        key=f"merge-test:{c.pk}:{n}",
        customer=c,
        channel=Channel.SMS,
        purpose=Purpose.SERVICE,
        occasion="merge-test",
    ),
    # The default clash policy: the survivor's enrollment for the same occasion stays.
    "workflows.Enrollment.customer": lambda c, n: Enrollment.objects.create(
        sequence=CareSequence.objects.create(name=f"merge-{n}", trigger="new_customer"),
        customer=c,
        occasion="new",
    ),
    "workflows.SensitiveEvent.customer": lambda c, n: SensitiveEvent.objects.create(
        customer=c,
        kind=SensitiveEvent.Kind.BEREAVEMENT,
        occurred_on=date(2026, 1, 1),
        suppressed_until=date(2026, 3, 1),
    ),
    "workflows.CampaignMember.customer": lambda c, n: CampaignMember.objects.create(
        campaign=_campaign(n), customer=c
    ),
    "workflows.FeedbackInvitation.customer": lambda c, n: FeedbackInvitation.objects.create(
        form=_feedback_version().form,
        customer=c,
        occasion=f"merge-{n}",
        expires_at=datetime(2026, 2, 1, tzinfo=UTC),
    ),
    "workflows.FeedbackResponse.customer": lambda c, n: _feedback_response(c),
    "workflows.AdoptedSuggestion.customer": lambda c, n: AdoptedSuggestion.objects.create(
        answer=FeedbackAnswer.objects.create(
            # An anonymous response: the builder above counts the customer's responses.
            response=_feedback_response(None),
            question_id="q1",
            kind="long_text",
            text="idea",
        ),
        customer=c,
        what_changed="done",
        adopted_by=UserFactory(),
    ),
    "workflows.Ticket.customer": lambda c, n: Ticket.objects.create(
        customer=c, department="customer_service", category="other", subject=f"merge {n}"
    ),
    # One active term per customer: the duplicate's earlier terms are ended ones.
    "workflows.ExperienceOfficer.customer": lambda c, n: ExperienceOfficer.objects.create(
        customer=c, is_active=n == 0
    ),
}


def _feedback_version() -> FormVersion:
    form, _created = FeedbackForm.objects.get_or_create(
        slug="merge-test", defaults={"name": "Merge", "title_en": "T", "title_zh_hans": "T"}
    )
    version, _created = FormVersion.objects.get_or_create(form=form, number=1)
    return version


def _feedback_response(customer: Customer | None) -> FeedbackResponse:
    version = _feedback_version()
    return FeedbackResponse.objects.create(form=version.form, version=version, customer=customer)


def _campaign(n: int) -> Campaign:
    """The n-th campaign (one campaign per n: no clash on (campaign, customer))."""
    segment, _created = Segment.objects.get_or_create(name="merge-test")
    campaign, _created = Campaign.objects.get_or_create(
        name=f"merge-{n}",
        defaults={
            "segment": segment,
            "offer": {"points": 100},
            "channel": Channel.SMS,
            "template_code": "merge",
            "scheduled_at": datetime(2026, 1, 1, tzinfo=UTC),
        },
    )
    return campaign


def _membership(customer: Customer, n: int) -> Membership:
    """The customer's membership of the n-th program (one program per n: no clash)."""
    program = ProgramFactory(code=f"merge-{n}")
    tier, _created = Tier.objects.get_or_create(
        program=program, rank=1, defaults={"name": "Member"}
    )
    membership, _created = Membership.objects.get_or_create(
        customer=customer, program=program, defaults={"tier": tier, "since": date(2026, 1, 1)}
    )
    return membership


# Relations that are not ownership, each handled explicitly by the merge (see NOT_OWNERSHIP).
EXPECTED_NOT_OWNERSHIP = {
    "crm.Customer.merged_into",
    "crm.CustomerMerge.survivor",
    "crm.CustomerMerge.merged",
    "crm.DuplicatePair.customer",
    "crm.DuplicatePair.other",
    "crm.PrivacyRequest.customer",
    "crm.CustomerAccessLog.customer",
}


def _relations_to_customer() -> set[str]:
    """Every foreign key to Customer, from Django's own registry (not the merge's list):
    `related_objects`, plus hidden ones (related_name="+"), minus simple-history's copies."""
    labels = set()
    for rel in Customer._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete):
            continue
        if rel.many_to_many:
            # Its through model's foreign key to Customer is listed as a relation of its own.
            through_fks = [
                f"{rel.through._meta.label}.{field.name}"
                for field in rel.through._meta.fields
                if field.is_relation and field.related_model is Customer
            ]
            assert through_fks, rel
            continue
        if issubclass(rel.related_model, HistoricalChanges):
            continue
        labels.add(f"{rel.related_model._meta.label}.{rel.field.name}")
    assert {
        f"{rel.related_model._meta.label}.{rel.field.name}"
        for rel in Customer._meta.related_objects
        if not rel.many_to_many
    } <= labels
    return labels


def test_every_relation_to_customer_is_covered():
    relations = _relations_to_customer()
    not_covered = relations - set(OWNED_ROW_BUILDERS) - EXPECTED_NOT_OWNERSHIP
    assert not_covered == set(), (
        "A relation to Customer that the merge test does not cover: add a row builder to "
        "OWNED_ROW_BUILDERS (the merge moves it), or handle it in crm.services.merges and "
        "list it in NOT_OWNERSHIP and EXPECTED_NOT_OWNERSHIP."
    )
    assert set(NOT_OWNERSHIP) == EXPECTED_NOT_OWNERSHIP
    assert set(OWNED_ROW_BUILDERS) <= relations


def _rows_of(label: str, customer: Customer) -> int:
    app_model, field = label.rsplit(".", 1)
    model = next(
        rel.related_model
        for rel in Customer._meta.get_fields(include_hidden=True)
        if rel.auto_created
        and not rel.concrete
        and not rel.many_to_many
        and f"{rel.related_model._meta.label}.{rel.field.name}" == label
    )
    return model._base_manager.filter(**{field: customer}).count()


@pytest.fixture
def merger(supervisor):
    """A supervisor of `team`: the role has crm.merge_customers."""
    return supervisor


@pytest.mark.django_db
def test_merge_moves_every_row_the_duplicate_owns(merger, rm):
    survivor, duplicate = CustomerFactory.create_batch(2, owner=rm)
    for build in OWNED_ROW_BUILDERS.values():
        build(survivor, 0)
        build(duplicate, 1)
        build(duplicate, 2)

    merge = customer_merge(actor=merger, survivor_id=survivor.pk, merged_id=duplicate.pk)

    for label in OWNED_ROW_BUILDERS:
        assert _rows_of(label, duplicate) == 0, label
        assert _rows_of(label, survivor) == 3, label
        assert merge.moved[label]["moved"] == 2, label


@pytest.mark.django_db
def test_the_duplicate_is_kept_as_merged_with_history(merger, rm):
    survivor = CustomerFactory(owner=rm, name="张伟", email="")
    duplicate = CustomerFactory(owner=rm, name="Zhang Wei", email="zhangwei@163.com")
    preference = PreferenceFactory(customer=duplicate, text="靠窗座位")

    merge = customer_merge(actor=merger, survivor_id=survivor.pk, merged_id=duplicate.pk)

    duplicate.refresh_from_db()
    survivor.refresh_from_db()
    assert duplicate.status == Customer.Status.MERGED
    assert duplicate.merged_into == survivor
    assert (merge.survivor, merge.merged, merge.merged_by) == (survivor, duplicate, merger)
    assert merge.merged_at is not None
    latest = duplicate.history.first()
    assert (latest.status, latest.history_user) == (Customer.Status.MERGED, merger)
    assert str(duplicate.pk) in latest.history_change_reason
    assert survivor.email == "zhangwei@163.com"  # the gap is filled from the duplicate
    assert survivor.history.first().history_user == merger
    moved_history = Preference.history.filter(id=preference.pk).first()
    assert (moved_history.customer_id, moved_history.history_user) == (survivor.pk, merger)


@pytest.mark.django_db
def test_balances_of_the_same_day_are_added_up(merger, rm):
    survivor, duplicate = CustomerFactory(owner=rm), CustomerFactory(owner=rm)
    day = date(2026, 3, 1)
    BalanceSnapshotFactory(customer=survivor, date=day, amount=Decimal("50000.00"))
    BalanceSnapshotFactory(customer=duplicate, date=day, amount=Decimal("20000.50"))
    BalanceSnapshotFactory(customer=duplicate, date=day + timedelta(days=1))

    merge = customer_merge(actor=merger, survivor_id=survivor.pk, merged_id=duplicate.pk)

    assert BalanceSnapshot.objects.get(customer=survivor, date=day).amount == Decimal("70000.50")
    assert BalanceSnapshot.objects.filter(customer=survivor).count() == 2
    assert merge.moved["crm.BalanceSnapshot.customer"] == {
        "combined": 1,
        "dropped": 0,
        "moved": 1,
    }


@pytest.mark.django_db
def test_the_same_tag_on_both_stays_once(merger, rm):
    survivor, duplicate = CustomerFactory(owner=rm), CustomerFactory(owner=rm)
    tag, other_tag = TagFactory(name="高价值"), TagFactory(name="母婴偏好")
    CustomerTag.objects.create(customer=survivor, tag=tag)
    CustomerTag.objects.create(customer=duplicate, tag=tag)
    CustomerTag.objects.create(customer=duplicate, tag=other_tag)

    customer_merge(actor=merger, survivor_id=survivor.pk, merged_id=duplicate.pk)

    assert sorted(CustomerTag.objects.values_list("customer_id", "tag__name")) == sorted(
        [(survivor.pk, "高价值"), (survivor.pk, "母婴偏好")]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("newer", ["survivor", "duplicate"])
def test_consents_keep_the_most_recent_decision(merger, rm, newer):
    survivor, duplicate = CustomerFactory(owner=rm), CustomerFactory(owner=rm)
    long_ago, lately = timezone.now() - timedelta(days=700), timezone.now() - timedelta(days=3)
    ConsentFactory(
        customer=survivor,
        channel=Consent.Channel.SMS,
        is_granted=newer == "survivor",
        granted_at=lately if newer == "survivor" else long_ago,
        withdrawn_at=None,
    )
    ConsentFactory(
        customer=duplicate,
        channel=Consent.Channel.SMS,
        is_granted=False,
        granted_at=long_ago,
        withdrawn_at=lately if newer == "duplicate" else long_ago,
        evidence="短信回复TD退订",
    )

    customer_merge(actor=merger, survivor_id=survivor.pk, merged_id=duplicate.pk)

    consent = Consent.objects.get()
    assert consent.customer_id == survivor.pk
    assert consent.is_granted is (newer == "survivor")
    if newer == "duplicate":
        assert consent.evidence == "短信回复TD退订"
        assert consent.history.first().history_user == merger


@pytest.mark.django_db
def test_the_pair_is_marked_merged_and_other_pairs_follow_the_survivor(merger, rm):
    survivor, duplicate, third, fourth = CustomerFactory.create_batch(4, owner=rm)
    low, high = sorted((survivor.pk, duplicate.pk))
    pair = DuplicatePair.objects.create(customer_id=low, other_id=high, score=90)
    DuplicatePair.objects.create(
        customer_id=min(duplicate.pk, third.pk), other_id=max(duplicate.pk, third.pk), score=70
    )
    DuplicatePair.objects.create(
        customer_id=min(duplicate.pk, fourth.pk),
        other_id=max(duplicate.pk, fourth.pk),
        score=60,
        status=DuplicatePair.Status.NOT_DUPLICATE,
    )

    customer_merge(actor=merger, survivor_id=survivor.pk, merged_id=duplicate.pk, pair_id=pair.pk)

    pair.refresh_from_db()
    assert (pair.status, pair.decided_by) == (DuplicatePair.Status.MERGED, merger)
    open_pairs = DuplicatePair.objects.filter(status=DuplicatePair.Status.OPEN)
    assert set(open_pairs.values_list("customer_id", "other_id")) == {
        (min(survivor.pk, third.pk), max(survivor.pk, third.pk))
    }
    # "Not a duplicate" of the duplicate and the fourth holds for the survivor too.
    assert DuplicatePair.objects.filter(
        customer_id=min(survivor.pk, fourth.pk),
        other_id=max(survivor.pk, fourth.pk),
        status=DuplicatePair.Status.NOT_DUPLICATE,
    ).exists()


@pytest.mark.django_db
def test_customers_merged_earlier_into_the_duplicate_now_lead_to_the_survivor(merger, rm):
    survivor, duplicate, older = CustomerFactory.create_batch(3, owner=rm)
    customer_merge(actor=merger, survivor_id=duplicate.pk, merged_id=older.pk)
    customer_merge(actor=merger, survivor_id=survivor.pk, merged_id=duplicate.pk)
    older.refresh_from_db()
    assert older.merged_into == survivor


@pytest.mark.django_db
def test_a_merged_customer_cannot_be_merged_again(merger, rm):
    survivor, duplicate, third = CustomerFactory.create_batch(3, owner=rm)
    customer_merge(actor=merger, survivor_id=survivor.pk, merged_id=duplicate.pk)
    for survivor_id, merged_id in [(third.pk, duplicate.pk), (duplicate.pk, third.pk)]:
        with pytest.raises(ValidationError) as error:
            customer_merge(actor=merger, survivor_id=survivor_id, merged_id=merged_id)
        assert error.value.code == "already_merged"
        assert f"#{survivor.pk}" in error.value.messages[0]
    assert CustomerMerge.objects.count() == 1


@pytest.mark.django_db
def test_a_customer_is_not_merged_into_itself(merger, rm):
    customer = CustomerFactory(owner=rm)
    with pytest.raises(ValidationError) as error:
        customer_merge(actor=merger, survivor_id=customer.pk, merged_id=customer.pk)
    assert error.value.code == "same_customer"


@pytest.mark.django_db
def test_an_rm_without_the_merge_permission_is_refused(rm):
    survivor, duplicate = CustomerFactory.create_batch(2, owner=rm)
    TransactionFactory(customer=duplicate)
    with pytest.raises(ValidationError) as error:
        customer_merge(actor=rm, survivor_id=survivor.pk, merged_id=duplicate.pk)
    assert error.value.code == "permission_denied"
    assert duplicate.transactions.count() == 1
    assert Customer.objects.get(pk=duplicate.pk).status == Customer.Status.ACTIVE


@pytest.mark.django_db
def test_a_supervisor_of_another_team_is_told_the_customers_do_not_exist(foreign_supervisor, rm):
    survivor, duplicate = CustomerFactory.create_batch(2, owner=rm)
    with pytest.raises(Customer.DoesNotExist):
        customer_merge(actor=foreign_supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)
    assert not CustomerMerge.objects.exists()


@pytest.mark.django_db
def test_both_customers_must_be_visible(merger, rm, team):
    mine = CustomerFactory(owner=rm)
    elsewhere = CustomerFactory(owner=make_rm(username="rm_far"))
    with pytest.raises(Customer.DoesNotExist):
        customer_merge(actor=merger, survivor_id=mine.pk, merged_id=elsewhere.pk)


@pytest.mark.django_db
def test_a_decided_pair_cannot_be_merged_through(merger, rm):
    survivor, duplicate = CustomerFactory.create_batch(2, owner=rm)
    low, high = sorted((survivor.pk, duplicate.pk))
    pair = DuplicatePair.objects.create(
        customer_id=low, other_id=high, score=80, status=DuplicatePair.Status.NOT_DUPLICATE
    )
    with pytest.raises(ValidationError) as error:
        customer_merge(
            actor=merger, survivor_id=survivor.pk, merged_id=duplicate.pk, pair_id=pair.pk
        )
    assert error.value.code == "already_decided"


@pytest.mark.django_db
def test_an_rm_given_the_permission_merges_own_customers(rm):
    rm.user_permissions.add(Permission.objects.get(codename="merge_customers"))
    survivor, duplicate = CustomerFactory.create_batch(2, owner=rm)
    rm = type(rm).objects.get(pk=rm.pk)  # a fresh permission cache
    customer_merge(actor=rm, survivor_id=survivor.pk, merged_id=duplicate.pk)
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id == survivor.pk


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_merging_the_same_duplicate_at_once_merge_it_once(team, rm):
    """Both lock the two customers in pk order; the second sees the duplicate merged."""
    first = make_supervisor(team, username="sup_a")
    second = make_supervisor(team, username="sup_b")
    survivor_a, survivor_b, duplicate = CustomerFactory.create_batch(3, owner=rm)
    TransactionFactory.create_batch(3, customer=duplicate)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def merge(actor, survivor) -> None:
        try:
            barrier.wait()
            customer_merge(actor=actor, survivor_id=survivor.pk, merged_id=duplicate.pk)
            outcomes.append("merged")
        except ValidationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=merge, args=(first, survivor_a)),
        threading.Thread(target=merge, args=(second, survivor_b)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["already_merged", "merged"]
    merge = CustomerMerge.objects.get()
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id == merge.survivor_id
    assert merge.survivor.transactions.count() == 3


@pytest.mark.django_db
def test_two_memberships_of_a_program_keep_the_higher_tier_and_all_history(merger, rm):
    survivor, duplicate = CustomerFactory(owner=rm), CustomerFactory(owner=rm)
    low, high = _membership(survivor, 0), _membership(duplicate, 0)
    high.tier = Tier.objects.create(program=high.program, rank=3, name="Gold")
    high.save()
    for membership, customer in ((low, survivor), (high, duplicate)):
        MembershipChange.objects.create(
            membership=membership,
            customer=customer,
            program=membership.program,
            to_tier=membership.tier,
            evaluated_on=date(2026, 1, 1),
        )

    customer_merge(actor=merger, survivor_id=survivor.pk, merged_id=duplicate.pk)

    membership = Membership.objects.get(program=low.program)
    assert (membership.customer, membership.tier.rank) == (survivor, 3)
    assert set(MembershipChange.objects.values_list("membership_id", "customer_id")) == {
        (membership.pk, survivor.pk)
    }
