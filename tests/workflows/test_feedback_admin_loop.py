"""Closing the loop: adopting a suggestion (points once, message once, on the timeline, a
second adoption refused), experience officers invited from a segment set-based, the customer
filter, and the customer page's Feedback panel."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.filters import CustomerFilter
from crm.models import Customer, Interaction, Segment
from loyalty.models import PointsEntry, Program
from tests.factories import CustomerFactory
from tests.loyalty.points.earning_helpers import balance
from tests.workflows.feedback_admin_data import answered
from tests.workflows.feedback_factories import published_form
from workflows.feedback.officers import officer_terms_end, officers_invite
from workflows.feedback.seeds import feedback_templates_seed
from workflows.feedback.suggestions import TEMPLATE_CODE, suggestion_adopt
from workflows.models import AdoptedSuggestion, ExperienceOfficer, Message, MessageTemplate
from workflows.models.feedback import ServiceStep
from workflows.models.outbox import Channel, Purpose

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):
    call_command("seed_programs")
    feedback_templates_seed()
    return Program.objects.get(code="shop")


@pytest.fixture
def suggestion(rm):
    version = published_form()
    customer = CustomerFactory(owner=rm, name="韩梅梅")
    response = answered(version, customer=customer, nps=8, text="希望周末也能营业", sentiment=0.1)
    return response.answers.get(kind="long_text")


# -- the service -------------------------------------------------------------------------------


def test_adopting_a_suggestion_rewards_tells_and_records_it_once(
    seeded, suggestion, supervisor, django_capture_on_commit_callbacks
):
    customer = suggestion.response.customer

    adoption = suggestion_adopt(
        answer=suggestion, what_changed="Branches open on Saturdays", adopted_by=supervisor
    )

    assert adoption.customer == customer
    assert adoption.interaction.kind == Interaction.Kind.SUGGESTION
    assert adoption.interaction.customer == customer
    assert "Branches open on Saturdays" in adoption.interaction.summary
    assert balance(customer, seeded) == 200
    assert PointsEntry.objects.filter(key__startswith="suggestion:").count() == 1
    message = Message.objects.get(customer=customer)
    assert (message.channel, message.purpose) == (Channel.SMS, Purpose.SERVICE)
    assert message.occasion == f"suggestion:{adoption.pk}"
    assert "Branches open on Saturdays" in message.body


def test_a_second_adoption_is_refused_and_changes_nothing(seeded, suggestion, supervisor):
    suggestion_adopt(answer=suggestion, what_changed="Saturdays", adopted_by=supervisor)

    with pytest.raises(ValidationError) as error:
        suggestion_adopt(answer=suggestion, what_changed="Sundays too", adopted_by=supervisor)

    assert error.value.code == "already_adopted"
    customer = suggestion.response.customer
    assert AdoptedSuggestion.objects.count() == 1
    assert Interaction.objects.filter(kind=Interaction.Kind.SUGGESTION).count() == 1
    assert Message.objects.filter(customer=customer).count() == 1
    assert balance(customer, seeded) == 200


def test_only_a_known_customers_free_text_can_be_adopted(seeded, supervisor):
    version = published_form()
    anonymous = answered(version, nps=3, text="太慢", sentiment=-0.5)
    known = answered(version, customer=CustomerFactory(), nps=3)

    with pytest.raises(ValidationError) as open_link:
        suggestion_adopt(
            answer=anonymous.answers.get(kind="long_text"), what_changed="x", adopted_by=supervisor
        )
    with pytest.raises(ValidationError) as score:
        suggestion_adopt(answer=known.answers.get(), what_changed="x", adopted_by=supervisor)

    assert open_link.value.code == "anonymous"
    assert score.value.code == "not_text"
    assert not AdoptedSuggestion.objects.exists()
    assert not Message.objects.exists()


def test_adopting_needs_what_changed(seeded, suggestion, supervisor):
    with pytest.raises(ValidationError) as error:
        suggestion_adopt(answer=suggestion, what_changed="  ", adopted_by=supervisor)
    assert "what_changed" in error.value.message_dict
    assert not AdoptedSuggestion.objects.exists()


def test_without_the_template_nothing_is_adopted(suggestion, supervisor):
    with pytest.raises(ValidationError):
        suggestion_adopt(answer=suggestion, what_changed="Saturdays", adopted_by=supervisor)
    assert not AdoptedSuggestion.objects.exists()
    assert not Interaction.objects.filter(kind=Interaction.Kind.SUGGESTION).exists()


def test_seed_feedback_is_idempotent():
    call_command("seed_feedback")
    call_command("seed_feedback")
    assert sorted(
        MessageTemplate.objects.filter(code=TEMPLATE_CODE).values_list("channel", "language")
    ) == [("email", "en"), ("email", "zh-hans"), ("sms", "en"), ("sms", "zh-hans")]


# -- the admin page ----------------------------------------------------------------------------


def adopt_url(answer):
    return reverse("admin:workflows_feedbackresponse_adopt", args=[answer.response_id, answer.pk])


def test_a_supervisor_adopts_from_the_response_page(seeded, suggestion, supervisor, client):
    client.force_login(supervisor)
    change = reverse("admin:workflows_feedbackresponse_change", args=[suggestion.response_id])

    assert adopt_url(suggestion) in client.get(change).content.decode()
    assert client.get(adopt_url(suggestion)).status_code == 200
    response = client.post(adopt_url(suggestion), {"what_changed": "Saturday opening"})

    assert response.status_code == 302
    assert AdoptedSuggestion.objects.get().what_changed == "Saturday opening"
    again = client.post(adopt_url(suggestion), {"what_changed": "again"})
    assert again.status_code == 200
    assert "This suggestion was adopted already." in again.content.decode()
    assert AdoptedSuggestion.objects.count() == 1


def test_an_empty_what_changed_is_shown_at_the_field(seeded, suggestion, supervisor, client):
    client.force_login(supervisor)
    response = client.post(adopt_url(suggestion), {"what_changed": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["what_changed"]
    assert not AdoptedSuggestion.objects.exists()


def test_an_rm_cannot_adopt(seeded, suggestion, rm, client):
    client.force_login(rm)
    assert client.post(adopt_url(suggestion), {"what_changed": "x"}).status_code == 403
    assert not AdoptedSuggestion.objects.exists()


def test_another_teams_response_cannot_be_adopted(seeded, foreign_rm, supervisor, client):
    version = published_form()
    theirs = answered(version, customer=CustomerFactory(owner=foreign_rm), text="建议", sentiment=0)
    client.force_login(supervisor)
    answer = theirs.answers.get()
    assert client.post(adopt_url(answer), {"what_changed": "x"}).status_code == 404
    assert not AdoptedSuggestion.objects.exists()


# -- experience officers -----------------------------------------------------------------------


@pytest.fixture
def students(db):
    for _ in range(3):
        CustomerFactory(is_student=True)
    CustomerFactory(is_student=False)
    return Segment.objects.create(name="Students", definition={"is_student": True})


def test_officers_are_invited_from_a_segment_in_one_statement(students, supervisor):
    with CaptureQueriesContext(connection) as queries:
        invited = officers_invite(segment=students, invited_by=supervisor)
    again = officers_invite(segment=students, invited_by=supervisor)

    assert invited == 3
    assert again == 0
    inserts = [q for q in queries.captured_queries if q["sql"].lstrip().startswith("INSERT")]
    assert len(inserts) == 1
    rows = ExperienceOfficer.objects.order_by("customer_id")
    assert rows.count() == 3
    assert {row.segment_id for row in rows} == {students.pk}
    assert all(row.is_active and row.invited_by == supervisor for row in rows)


def test_an_ended_term_can_start_again(students, supervisor):
    officers_invite(segment=students, invited_by=supervisor)
    ended = officer_terms_end(
        officer_ids=list(ExperienceOfficer.objects.values_list("pk", flat=True)[:1])
    )
    invited = officers_invite(segment=students, invited_by=supervisor)

    assert (ended, invited) == (1, 1)
    assert ExperienceOfficer.objects.filter(is_active=True).count() == 3
    assert ExperienceOfficer.objects.count() == 4


def test_the_experience_officer_customer_filter(students, supervisor):
    officers_invite(segment=students, invited_by=supervisor)
    officers = CustomerFilter(data={"experience_officer": True}, queryset=Customer.objects.all())
    others = CustomerFilter(data={"experience_officer": False}, queryset=Customer.objects.all())

    assert officers.is_valid()
    assert sorted(officers.qs.values_list("is_student", flat=True)) == [True, True, True]
    assert list(others.qs.values_list("is_student", flat=True)) == [False]


def test_a_supervisor_invites_from_the_admin_and_ends_a_term(students, supervisor, client):
    team = supervisor.teammembership_set.get().team
    Customer.objects.filter(is_student=True).update(owner=supervisor, team=team)
    client.force_login(supervisor)
    invite = reverse("admin:workflows_experienceofficer_invite")
    changelist = reverse("admin:workflows_experienceofficer_changelist")

    assert invite in client.get(changelist).content.decode()
    response = client.post(invite, {"segment": students.pk})
    assert response.status_code == 302
    assert ExperienceOfficer.objects.filter(is_active=True).count() == 3

    officer = ExperienceOfficer.objects.first()
    ended = client.post(changelist, {"action": "end_terms", "_selected_action": [officer.pk]})
    assert ended.status_code == 302
    officer.refresh_from_db()
    assert officer.is_active is False
    assert ExperienceOfficer.objects.filter(is_active=True).count() == 2


def test_an_rm_cannot_invite_officers(students, rm, client):
    client.force_login(rm)
    invite = reverse("admin:workflows_experienceofficer_invite")
    assert client.post(invite, {"segment": students.pk}).status_code == 403
    assert not ExperienceOfficer.objects.exists()


# -- the customer's page -----------------------------------------------------------------------


def _customer_page(client, customer):
    return client.get(reverse("admin:crm_customer_change", args=[customer.pk])).content.decode()


def test_the_feedback_panel_lists_responses_adoptions_and_contributions(
    seeded, rm, supervisor, client
):
    customer = CustomerFactory(owner=rm)
    general = published_form()
    product = published_form(slug="product", service_step=ServiceStep.PRODUCT_TEST, name="新卡试用")
    answered(general, customer=customer, nps=9)
    tested = answered(product, customer=customer, csat=4, text="新卡的界面不错", sentiment=0.6)
    suggestion_adopt(answer=tested.answers.get(kind="long_text"), what_changed="x", adopted_by=rm)
    ExperienceOfficer.objects.create(customer=customer, invited_by=supervisor)
    client.force_login(rm)

    page = _customer_page(client, customer)

    panel = page.split('class="workflows-feedback-counts"')[1]
    assert "2 responses" in panel
    assert "1 adopted suggestion" in panel
    assert "Experience officer since" in panel
    contributions = panel.split('class="workflows-feedback-contributions"')[1].split("</table>")[0]
    assert "新卡试用" in contributions
    assert reverse("admin:workflows_feedbackresponse_change", args=[tested.pk]) in contributions


def test_the_feedback_panel_takes_the_same_queries_whatever_the_history(rm, supervisor, client):
    from crm.panels import _panels

    panel = _panels["workflows_feedback"]
    general = published_form()
    product = published_form(slug="product", service_step=ServiceStep.PRODUCT_TEST)

    def panel_queries(count):
        customer = CustomerFactory(owner=rm)
        ExperienceOfficer.objects.create(customer=customer)
        for _ in range(count):
            answered(general, customer=customer, nps=9)
            answered(product, customer=customer, csat=5)

        class Request:
            user = rm

        with CaptureQueriesContext(connection) as queries:
            panel.get_context(customer, Request())
        return len(queries)

    rm.has_perm("workflows.view_feedbackresponse")  # the user's permissions, cached per request
    assert panel_queries(1) == panel_queries(12) == 5
