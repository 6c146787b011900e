"""Feedback responses in admin: read-only, scoped (anonymous ones for supervisors only), the
answers with their questions, sentiment and topics, and lists without N+1."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CustomerFactory
from tests.workflows.feedback_admin_data import answered, topic
from tests.workflows.feedback_factories import published_form
from workflows.models import AdoptedSuggestion, ExperienceOfficer

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:workflows_feedbackresponse_changelist")


def change_url(response):
    return reverse("admin:workflows_feedbackresponse_change", args=[response.pk])


@pytest.fixture
def version(db):
    return published_form()


def listed(client) -> list[int]:
    return [row.pk for row in client.get(CHANGELIST).context["cl"].result_list]


def test_an_rm_sees_only_their_customers_responses(client, version, rm, foreign_rm):
    mine = answered(version, customer=CustomerFactory(owner=rm), nps=9)
    theirs = answered(version, customer=CustomerFactory(owner=foreign_rm), nps=9)
    anonymous = answered(version, nps=2)
    client.force_login(rm)

    assert listed(client) == [mine.pk]
    assert client.get(change_url(mine)).status_code == 200
    assert client.get(change_url(theirs)).status_code == 404
    assert client.get(change_url(anonymous)).status_code == 404


def test_a_supervisor_sees_the_teams_and_the_anonymous_responses(
    client, version, rm, supervisor, foreign_rm
):
    ours = answered(version, customer=CustomerFactory(owner=rm), nps=9)
    answered(version, customer=CustomerFactory(owner=foreign_rm), nps=9)
    anonymous = answered(version, nps=2)
    client.force_login(supervisor)

    assert sorted(listed(client)) == sorted([ours.pk, anonymous.pk])
    assert client.get(change_url(anonymous)).status_code == 200


def test_a_response_is_never_edited_by_hand(client, version, supervisor):
    response = answered(version, customer=CustomerFactory(owner=supervisor), nps=9)
    client.force_login(supervisor)
    assert client.post(change_url(response), {"nps": "0"}).status_code == 403
    response.refresh_from_db()
    assert response.nps == 9


def test_the_change_page_shows_each_answer_with_its_question(client, version, rm):
    delivery = topic("delivery", "物流", "物流")
    response = answered(
        version,
        customer=CustomerFactory(owner=rm),
        nps=4,
        choice="2",
        text="物流太慢了",
        sentiment=-0.62,
        topics=[delivery],
    )
    client.force_login(rm)

    page = client.get(change_url(response)).content.decode()

    answers = page.split('class="feedback-answers"')[1].split("</table>")[0]
    assert "How likely are you to recommend us to a friend?" in answers
    assert "<td>4</td>" in answers
    assert "How did you contact us?" in answers
    assert "<td>App</td>" in answers  # the choice's label, not its value
    assert "物流太慢了" in answers
    assert "-0.62" in answers
    assert "delivery" in answers
    # Adopting is a supervisor's.
    assert "/adopt/" not in answers


def test_answers_keep_the_question_text_of_their_version(client, version, rm):
    from workflows.feedback.versions import form_publish

    response = answered(version, customer=CustomerFactory(owner=rm), nps=8)
    question = version.form.questions.get(kind="nps")
    question.text_en = "Would you recommend our bank?"
    question.save()
    form_publish(form=version.form)
    client.force_login(rm)

    page = client.get(change_url(response)).content.decode()

    assert "How likely are you to recommend us to a friend?" in page
    assert "Would you recommend our bank?" not in page


def test_the_contact_details_of_an_open_link_are_masked_without_the_permission(
    client, version, supervisor
):
    from django.contrib.auth.models import Permission

    response = answered(version, nps=5)
    response.contact_phone = "+8613800138000"
    response.save()
    supervisor.user_permissions.remove(*Permission.objects.filter(codename="view_customer_contact"))
    supervisor.groups.first().permissions.remove(
        *Permission.objects.filter(codename="view_customer_contact")
    )
    client.force_login(supervisor)

    page = client.get(change_url(response)).content.decode()

    assert "138****8000" in page
    assert "13800138000" not in page


def test_filters_by_form_step_and_date(client, version, rm):
    other = published_form(slug="visit", service_step="branch_visit")
    customer = CustomerFactory(owner=rm)
    first = answered(version, customer=customer, nps=9)
    answered(other, customer=customer, nps=9)
    client.force_login(rm)

    by_form = client.get(CHANGELIST, {"form__id__exact": version.form_id})
    by_step = client.get(CHANGELIST, {"service_step__exact": "general"})

    assert [row.pk for row in by_form.context["cl"].result_list] == [first.pk]
    assert [row.pk for row in by_step.context["cl"].result_list] == [first.pk]
    assert (
        client.get(CHANGELIST, {"submitted_at__gte": "2000-01-01 00:00:00+08:00"}).status_code
        == 200
    )


def _list_queries(client, user, version, count) -> int:
    for _ in range(count):
        answered(version, customer=CustomerFactory(owner=user), nps=7, csat=3)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(CHANGELIST).status_code == 200
    return len(queries)


def test_the_responses_list_has_no_n_plus_1(client, version, supervisor):
    client.force_login(supervisor)
    assert _list_queries(client, supervisor, version, 2) == _list_queries(
        client, supervisor, version, 20
    )


def test_the_responses_list_takes_a_known_number_of_queries(
    client, version, supervisor, django_assert_num_queries
):
    for _ in range(5):
        answered(version, customer=CustomerFactory(owner=supervisor), nps=7, csat=3)
    client.force_login(supervisor)
    # session, user, user and group permissions, the teams supervised, "owns customers outside
    # them?", the forms of the form filter, the capped count, the rows with form and customer.
    with django_assert_num_queries(9):
        assert client.get(CHANGELIST).status_code == 200


def _other_lists_queries(client, supervisor, count) -> tuple[int, int]:
    version = published_form(slug=f"lists{count}")
    for _ in range(count):
        customer = CustomerFactory(owner=supervisor)
        response = answered(version, customer=customer, text="建议", sentiment=0.2)
        AdoptedSuggestion.objects.create(
            answer=response.answers.get(),
            customer=customer,
            what_changed="Longer opening hours",
            adopted_by=supervisor,
        )
        ExperienceOfficer.objects.create(customer=customer, invited_by=supervisor)
    counts = []
    for name in ("adoptedsuggestion", "experienceofficer"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(f"admin:workflows_{name}_changelist")).status_code == 200
        counts.append(len(queries))
    return counts[0], counts[1]


def test_adopted_suggestions_and_officers_lists_have_no_n_plus_1(client, supervisor):
    client.force_login(supervisor)
    assert _other_lists_queries(client, supervisor, 2) == _other_lists_queries(
        client, supervisor, 15
    )
