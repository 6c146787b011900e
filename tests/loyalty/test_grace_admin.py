"""Grace periods in admin, as an RM files a request and a supervisor of the team decides."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from loyalty.models import GracePeriod
from loyalty.services.grace import grace_period_approve, grace_period_request
from tests.factories import CustomerFactory, make_supervisor
from tests.loyalty.factories import ProgramFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:loyalty_graceperiod_add")
CHANGELIST = reverse("admin:loyalty_graceperiod_changelist")
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def change_url(grace_period: GracePeriod) -> str:
    return reverse("admin:loyalty_graceperiod_change", args=[grace_period.pk])


def decide_url(grace_period: GracePeriod) -> str:
    return reverse("admin:loyalty_graceperiod_decide", args=[grace_period.pk])


def evidence_url(grace_period: GracePeriod) -> str:
    evidence = grace_period.evidence.order_by("id").first()
    return reverse("admin:loyalty_graceperiod_evidence", args=[grace_period.pk, evidence.pk])


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def program(db):
    return ProgramFactory(code="bank", name="Bank")


def filed(customer, program, rm, **overrides) -> GracePeriod:
    return grace_period_request(
        customer=customer,
        program=program,
        months=overrides.pop("months", 2),
        reason=GracePeriod.Reason.ILLNESS,
        explanation="",
        files=[SimpleUploadedFile("诊断证明.pdf", PDF)],
        requested_by=rm,
        **overrides,
    )


def test_rm_files_a_request_with_evidence_through_the_admin_form(client, rm, program):
    customer = CustomerFactory(owner=rm, name="钱多多")
    client.force_login(rm)
    page = client.get(ADD)
    assert page.status_code == 200
    assert 'type="file" name="files" multiple' in page.content.decode()

    response = client.post(
        ADD,
        {
            "customer": customer.pk,
            "program": program.pk,
            "months": "3",
            "reason": "investment_loss",
            "explanation": "基金亏损 40%",
            "files": [
                SimpleUploadedFile("statement.pdf", PDF, content_type="application/pdf"),
                SimpleUploadedFile("screenshot.png", PNG, content_type="image/png"),
            ],
        },
    )

    grace_period = GracePeriod.objects.get()
    assert response.status_code == 302
    assert response["Location"] == change_url(grace_period)
    assert (grace_period.customer, grace_period.requested_by, grace_period.months) == (
        customer,
        rm,
        3,
    )
    assert grace_period.status == GracePeriod.Status.PENDING
    assert sorted(grace_period.evidence.values_list("original_name", "content_type")) == [
        ("screenshot.png", "image/png"),
        ("statement.pdf", "application/pdf"),
    ]


def test_the_request_form_shows_what_the_service_refuses(client, rm, program):
    customer = CustomerFactory(owner=rm)
    client.force_login(rm)

    response = client.post(
        ADD,
        {
            "customer": customer.pk,
            "program": program.pk,
            "months": "1",
            "reason": "other",
            "explanation": "",
            "files": [SimpleUploadedFile("letter.pdf", b"not a pdf at all")],
        },
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "letter.pdf is not a PDF, JPEG or PNG file." in errors["files"]
    assert "explanation" in errors
    assert not GracePeriod.objects.exists()


def test_rm_cannot_pick_another_rms_customer_in_the_form(client, rm, foreign_rm, program):
    theirs = CustomerFactory(owner=foreign_rm, name="别人的客户")
    client.force_login(rm)

    response = client.post(
        ADD,
        {
            "customer": theirs.pk,
            "program": program.pk,
            "months": "1",
            "reason": "illness",
            "files": [SimpleUploadedFile("letter.pdf", PDF)],
        },
    )

    assert response.status_code == 200
    assert "customer" in response.context["form"].errors
    assert "别人的客户" not in response.content.decode()
    assert not GracePeriod.objects.exists()


def test_supervisor_approves_with_a_comment_and_the_rm_sees_the_decision(
    client, rm, supervisor, program
):
    grace_period = filed(CustomerFactory(owner=rm), program, rm)
    client.force_login(supervisor)
    page = client.get(change_url(grace_period)).content.decode()
    assert 'value="approve"' in page
    assert 'value="reject"' in page

    response = client.post(
        decide_url(grace_period), {"decision": "approve", "comment": "医院证明齐全"}
    )

    assert response.status_code == 302
    grace_period.refresh_from_db()
    assert (grace_period.status, grace_period.decided_by) == (
        GracePeriod.Status.APPROVED,
        supervisor,
    )
    assert grace_period.decision_comment == "医院证明齐全"
    assert grace_period.starts_on is not None

    client.force_login(rm)
    page = client.get(change_url(grace_period)).content.decode()
    assert "医院证明齐全" in page
    assert "sup_wang" in page
    assert 'value="approve"' not in page
    listed = client.get(CHANGELIST)
    [row] = listed.context["cl"].result_list
    assert (row.status, row.decided_by, row.ends_on) == ("approved", supervisor, row.ends_on)
    assert "sup_wang" in listed.content.decode()


def test_a_rejection_without_a_comment_is_refused_in_admin(client, rm, supervisor, program):
    grace_period = filed(CustomerFactory(owner=rm), program, rm)
    client.force_login(supervisor)

    response = client.post(
        decide_url(grace_period), {"decision": "reject", "comment": ""}, follow=True
    )

    assert "the comment is required" in response.content.decode()
    grace_period.refresh_from_db()
    assert grace_period.status == GracePeriod.Status.PENDING


def test_rm_may_not_decide_on_their_own_request(client, rm, program):
    grace_period = filed(CustomerFactory(owner=rm), program, rm)
    client.force_login(rm)

    page = client.get(change_url(grace_period)).content.decode()
    response = client.post(decide_url(grace_period), {"decision": "approve", "comment": ""})

    assert 'value="approve"' not in page
    assert response.status_code == 403
    grace_period.refresh_from_db()
    assert grace_period.status == GracePeriod.Status.PENDING


def test_rm_gets_404_for_another_rms_request_and_its_evidence(client, rm, other_rm, program):
    theirs = filed(CustomerFactory(owner=other_rm), program, other_rm)
    client.force_login(rm)

    assert client.get(change_url(theirs)).status_code == 404
    assert client.get(evidence_url(theirs)).status_code == 404
    history = reverse("admin:loyalty_graceperiod_history", args=[theirs.pk])
    assert client.get(history).status_code == 404
    assert list(client.get(CHANGELIST).context["cl"].result_list) == []


def test_supervisor_of_another_team_gets_404(client, rm, other_team, program):
    grace_period = filed(CustomerFactory(owner=rm), program, rm)
    client.force_login(make_supervisor(other_team, username="sup_other"))

    assert client.get(change_url(grace_period)).status_code == 404
    response = client.post(decide_url(grace_period), {"decision": "approve", "comment": ""})
    assert response.status_code == 404
    grace_period.refresh_from_db()
    assert grace_period.status == GracePeriod.Status.PENDING


def test_evidence_downloads_as_an_attachment_for_those_who_see_the_request(
    client, rm, supervisor, program
):
    grace_period = filed(CustomerFactory(owner=rm), program, rm)
    for user in (rm, supervisor):
        client.force_login(user)

        response = client.get(evidence_url(grace_period))

        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "filename*=utf-8''%E8%AF%8A%E6%96%AD" in response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff"
    # The page links the download view, never the storage's URL.
    page = client.get(change_url(grace_period)).content.decode()
    assert evidence_url(grace_period) in page
    assert "/media/" not in page


def test_the_change_page_shows_the_history(client, rm, supervisor, program):
    grace_period = filed(CustomerFactory(owner=rm), program, rm)
    grace_period_approve(grace_period=grace_period, decided_by=supervisor, comment="同意")
    client.force_login(rm)

    history = client.get(change_url(grace_period)).context["history"]

    assert [(row.status, row.history_user) for row in history] == [
        ("approved", supervisor),
        ("pending", rm),
    ]


def _changelist_queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    return len(captured)


def test_the_list_query_count_does_not_grow_with_rows(
    client, rm, supervisor, program, django_assert_num_queries
):
    def requests(count: int) -> None:
        for customer in CustomerFactory.create_batch(count, owner=rm):
            grace_period = filed(customer, program, rm)
            grace_period_approve(grace_period=grace_period, decided_by=supervisor, comment="")

    requests(2)
    with_two = _changelist_queries(client, supervisor)
    requests(12)
    client.force_login(supervisor)

    with django_assert_num_queries(with_two):
        response = client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == 14


def test_the_customer_search_of_the_request_form_offers_only_the_rms_customers(
    client, rm, foreign_rm
):
    mine = CustomerFactory(owner=rm, name="钱多多")
    CustomerFactory(owner=foreign_rm, name="钱少少")
    client.force_login(rm)

    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "loyalty",
            "model_name": "graceperiod",
            "field_name": "customer",
            "term": "钱",
        },
    )

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(mine.pk)]
