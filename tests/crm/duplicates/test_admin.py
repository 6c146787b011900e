"""The review of possible duplicates in admin, as a supervisor works it."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Customer, CustomerMerge, DuplicatePair, TeamMembership
from tests.factories import CustomerFactory, TransactionFactory, UserFactory, make_rm

CHANGELIST = reverse("admin:crm_duplicatepair_changelist")


def review_url(pair: DuplicatePair) -> str:
    return reverse("admin:crm_duplicatepair_change", args=[pair.pk])


def merge_url(pair: DuplicatePair) -> str:
    return reverse("admin:crm_duplicatepair_merge", args=[pair.pk])


def dismiss_url(pair: DuplicatePair) -> str:
    return reverse("admin:crm_duplicatepair_not_duplicate", args=[pair.pk])


def make_pair(owner, score=90.0, **names) -> DuplicatePair:
    a = CustomerFactory(owner=owner, name=names.get("left", "张伟"), phone="+8613800138000")
    b = CustomerFactory(owner=owner, name=names.get("right", "Zhang Wei"), phone="+8613800138000")
    return DuplicatePair.objects.create(
        customer=a,
        other=b,
        score=score,
        reasons=[{"code": "similar_name", "similarity": 100.0}, {"code": "same_phone"}],
    )


@pytest.mark.django_db
def test_supervisor_lists_open_pairs_by_score_with_masked_phones(client, supervisor, rm):
    low = make_pair(rm, score=60, left="李娜", right="Li Na")
    high = make_pair(rm, score=95)
    make_pair(rm, score=99, left="王芳", right="Wang Fang")
    DuplicatePair.objects.filter(score=99).update(status=DuplicatePair.Status.NOT_DUPLICATE)
    client.force_login(supervisor)
    page = client.get(CHANGELIST).content.decode()
    assert page.index("Zhang Wei") < page.index("Li Na")
    assert "王芳" not in page  # decided pairs are not in the default (open) list
    assert "138****8000" in page
    assert "13800138000" not in page
    assert "same mobile number" in page
    assert "similar name (100)" in page
    assert {low.pk, high.pk} == set(
        DuplicatePair.objects.filter(status="open").values_list("pk", flat=True)
    )
    assert "王芳" in client.get(CHANGELIST, {"status": "all"}).content.decode()


@pytest.mark.django_db
def test_supervisor_sees_only_pairs_of_their_team(client, supervisor, rm):
    mine = make_pair(rm)
    far_rm = make_rm(username="rm_far")
    theirs = make_pair(far_rm, left="赵敏", right="Zhao Min")
    mixed = DuplicatePair.objects.create(customer=mine.customer, other=theirs.other, score=70)
    client.force_login(supervisor)
    page = client.get(CHANGELIST).content.decode()
    assert "赵敏" not in page
    assert client.get(review_url(theirs)).status_code == 404
    assert client.get(review_url(mixed)).status_code == 404
    assert client.post(merge_url(theirs), {"keep": "left"}).status_code == 404


@pytest.mark.django_db
def test_the_list_query_count_does_not_grow_with_pairs(client, supervisor, rm):
    make_pair(rm)

    def count() -> int:
        client.force_login(supervisor)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(CHANGELIST).status_code == 200
        return len(captured)

    with_one = count()
    for n in range(10):
        make_pair(rm, left=f"客户{n}", right=f"Ke Hu {n}")
    assert count() == with_one


@pytest.mark.django_db
def test_review_page_shows_both_customers_and_what_they_own(client, supervisor, rm):
    pair = make_pair(rm)
    TransactionFactory.create_batch(3, customer=pair.other)
    client.force_login(supervisor)
    response = client.get(review_url(pair))
    assert response.status_code == 200
    page = response.content.decode()
    assert "张伟" in page
    assert "Zhang Wei" in page
    assert "+8613800138000" in page  # the role may see contacts whole
    assert ("transactions", 0, 3) in [
        (str(label), left, right) for label, left, right in response.context["counts"]
    ]
    assert 'name="keep" value="left"' in page
    assert "csrfmiddlewaretoken" in page


@pytest.mark.django_db
def test_review_page_masks_contacts_for_reviewers_who_may_not_see_them(client, team, rm):
    reviewer = UserFactory(username="reviewer")
    TeamMembership.objects.create(team=team, user=reviewer, role=TeamMembership.Role.SUPERVISOR)
    reviewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_duplicatepair", "change_duplicatepair"])
    )
    pair = make_pair(rm)
    client.force_login(reviewer)
    page = client.get(review_url(pair)).content.decode()
    assert "138****8000" in page
    assert "13800138000" not in page
    assert 'name="keep"' not in page  # may set pairs aside, not merge


@pytest.mark.django_db
def test_merge_into_the_left_one_by_post(client, supervisor, rm):
    pair = make_pair(rm)
    TransactionFactory.create_batch(2, customer=pair.other)
    client.force_login(supervisor)
    response = client.post(merge_url(pair), {"keep": "left"})
    assert response.status_code == 302
    merged = Customer.objects.get(pk=pair.other_id)
    assert (merged.status, merged.merged_into_id) == (Customer.Status.MERGED, pair.customer_id)
    assert pair.customer.transactions.count() == 2
    pair.refresh_from_db()
    assert pair.status == DuplicatePair.Status.MERGED
    assert CustomerMerge.objects.get().merged_by == supervisor


@pytest.mark.django_db
def test_merge_into_the_right_one_by_post(client, supervisor, rm):
    pair = make_pair(rm)
    client.force_login(supervisor)
    client.post(merge_url(pair), {"keep": "right"})
    assert Customer.objects.get(pk=pair.customer_id).merged_into_id == pair.other_id


@pytest.mark.django_db
def test_merge_needs_post_and_a_side(client, supervisor, rm):
    pair = make_pair(rm)
    client.force_login(supervisor)
    assert client.get(merge_url(pair), {"keep": "left"}).status_code == 405
    response = client.post(merge_url(pair), {"keep": "both"}, follow=True)
    assert "Choose which customer to keep." in response.content.decode()
    assert not CustomerMerge.objects.exists()


@pytest.mark.django_db
def test_merge_is_refused_without_a_csrf_token(supervisor, rm):
    from django.test import Client

    pair = make_pair(rm)
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)
    assert client.post(merge_url(pair), {"keep": "left"}).status_code == 403
    assert not CustomerMerge.objects.exists()


@pytest.mark.django_db
def test_not_a_duplicate_by_post(client, supervisor, rm):
    pair = make_pair(rm)
    client.force_login(supervisor)
    assert client.post(dismiss_url(pair)).status_code == 302
    pair.refresh_from_db()
    assert (pair.status, pair.decided_by) == (DuplicatePair.Status.NOT_DUPLICATE, supervisor)
    page = client.get(review_url(pair)).content.decode()
    assert 'name="keep"' not in page  # nothing left to decide


@pytest.mark.django_db
def test_an_rm_cannot_review_pairs(client, rm):
    pair = make_pair(rm)
    client.force_login(rm)
    assert client.get(CHANGELIST).status_code == 403
    assert client.post(merge_url(pair), {"keep": "left"}).status_code == 403
    assert client.post(dismiss_url(pair)).status_code == 403
    assert not CustomerMerge.objects.exists()


@pytest.mark.django_db
def test_merges_are_listed_read_only(client, supervisor, rm):
    pair = make_pair(rm)
    client.force_login(supervisor)
    client.post(merge_url(pair), {"keep": "left"})
    response = client.get(reverse("admin:crm_customermerge_changelist"))
    assert response.status_code == 200
    assert "Zhang Wei" in response.content.decode()


@pytest.mark.django_db
def test_not_a_duplicate_for_several_pairs_at_once(client, supervisor, rm):
    pairs = [make_pair(rm, left=f"客户{n}", right=f"Ke Hu {n}") for n in range(3)]
    client.force_login(supervisor)
    response = client.post(
        CHANGELIST,
        {"action": "mark_not_duplicate", "_selected_action": [pair.pk for pair in pairs[:2]]},
    )
    assert response.status_code == 302
    assert list(DuplicatePair.objects.order_by("pk").values_list("status", flat=True)) == [
        DuplicatePair.Status.NOT_DUPLICATE,
        DuplicatePair.Status.NOT_DUPLICATE,
        DuplicatePair.Status.OPEN,
    ]
