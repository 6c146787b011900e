"""Message templates in admin: a supervisor writes one per channel and language; a template
that does not compile is refused and nothing is saved."""

import pytest
from django.urls import reverse

from workflows.models import MessageTemplate

pytestmark = pytest.mark.django_db
ADD = reverse("admin:workflows_messagetemplate_add")


def _form(**fields):
    values = {
        "code": "welcome",
        "channel": "sms",
        "language": "zh-hans",
        "purpose": "service",
        "offer_kind": "none",
        "subject": "",
        "body": "{{ customer.name }}，欢迎加入！",
        "is_active": "on",
    }
    return {**values, **fields}


def test_a_supervisor_adds_a_template(client, supervisor):
    client.force_login(supervisor)
    response = client.post(ADD, _form())
    assert response.status_code == 302
    template = MessageTemplate.objects.get()
    assert (template.code, template.channel, template.language) == ("welcome", "sms", "zh-hans")


def test_a_template_that_does_not_compile_is_refused(client, supervisor):
    client.force_login(supervisor)
    response = client.post(ADD, _form(body="Hello {% if customer.name %}"))
    assert response.status_code == 200
    assert "Not a valid template" in response.content.decode()
    assert not MessageTemplate.objects.exists()


def test_an_rm_cannot_edit_templates(client, rm):
    client.force_login(rm)
    assert client.get(ADD).status_code == 403
