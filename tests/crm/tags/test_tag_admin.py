"""The tag admin: rule parameters checked, members counted with a cap, "recompute now"."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import CustomerTag, Tag
from tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:crm_tag_changelist")
ADD = reverse("admin:crm_tag_add")


def tag_form(**fields) -> dict:
    return {"name": "高价值", "kind": "rule", "description": "", "rule": "", "parameters": "{}"} | (
        fields
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"rule": "top_spenders", "parameters": '{"share": 1.5}'}, "above 0 and at most 1"),
        ({"rule": "top_spenders", "parameters": '{"share": "ten"}'}, "above 0 and at most 1"),
        ({"rule": "active_within", "parameters": '{"days": 0}'}, "whole number from 1 to"),
        ({"rule": "active_within", "parameters": '{"days": 7.5}'}, "whole number from 1 to"),
        ({"rule": "active_within", "parameters": '{"weeks": 4}'}, "Unknown parameters weeks"),
        ({"rule": "category_share", "parameters": '{"category": "toys"}'}, "Unknown category"),
        ({"rule": "category_share", "parameters": "{}"}, "Name the category"),
        ({"rule": "", "parameters": "{}"}, "Choose the rule"),
        ({"kind": "manual", "rule": "active_within"}, "A manual tag has no rule"),
    ],
)
def test_bad_rule_parameters_get_a_clear_error(client, supervisor, fields, message):
    client.force_login(supervisor)

    response = client.post(ADD, tag_form(**fields))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Tag.objects.filter(name="高价值").exists()


def test_rule_parameters_are_saved_with_their_defaults(client, supervisor):
    client.force_login(supervisor)

    response = client.post(ADD, tag_form(rule="top_spenders", parameters='{"share": 0.05}'))

    assert response.status_code == 302
    assert Tag.objects.get(name="高价值").parameters == {"share": 0.05, "days": 365}


def _changelist_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_member_counts_are_capped_and_cost_no_query_per_tag(client, supervisor, settings):
    settings.CRM_ADMIN_COUNT_LIMIT = 3
    client.force_login(supervisor)
    small = TagFactory(name="小标签")
    customers = CustomerFactory.create_batch(5)
    CustomerTag.objects.bulk_create(CustomerTag(customer=c, tag=small) for c in customers[:2])
    few_tags, page = _changelist_queries(client)

    big = TagFactory(name="大标签")
    CustomerTag.objects.bulk_create(CustomerTag(customer=c, tag=big) for c in customers)
    more_tags, page = _changelist_queries(client)

    assert few_tags == more_tags
    assert "more than 3" in page
    assert ">2<" in page


def test_recompute_now_enqueues_rule_tags_after_commit(
    client, supervisor, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr("crm.admin.teams.recompute_tags_task.delay", lambda **kw: sent.append(kw))
    rule = TagFactory(kind=Tag.Kind.RULE, rule="active_within", parameters={"days": 30})
    manual = TagFactory(kind=Tag.Kind.MANUAL)
    client.force_login(supervisor)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            CHANGELIST,
            {"action": "recompute_now", "_selected_action": [rule.pk, manual.pk]},
            follow=True,
        )

    assert sent == []  # nothing before commit
    for callback in callbacks:
        callback()
    assert sent == [{"tag_id": rule.pk}]
    page = response.content.decode()
    assert "1 tag will be recomputed" in page
    assert "1 manual tag was left alone" in page


def test_rm_cannot_recompute_tags(client, rm):
    client.force_login(rm)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert "recompute_now" not in response.content.decode()
