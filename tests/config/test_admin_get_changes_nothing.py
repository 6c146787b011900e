"""Every custom admin URL, opened with GET, changes nothing: changes need a POST (with CSRF).

The walk finds the custom URLs itself (every admin URL that is not one of Django's standard
views), so a new one is covered without being listed here. Demo data gives each URL a real
object to act on."""

import hashlib

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, reverse

from tests.factories import UserFactory

STANDARD = ("_changelist", "_add", "_change", "_delete", "_history", "_autocomplete")
SITE_VIEWS = {
    "index",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "jsi18n",
    "autocomplete",
    "view_on_site",
    "app_list",
}
# Views that only change state: GET must be refused outright.
POST_ONLY = {
    "crm_duplicatepair_merge",
    "crm_duplicatepair_not_duplicate",
    "crm_importjob_confirm",
    "loyalty_graceperiod_decide",
    "loyalty_pointsadjustment_decide",
    "workflows_feedbackform_publish",
    "workflows_ticket_transition",
    "workflows_ticket_note",
    "workflows_ticket_attach",
}


def _named_patterns(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _named_patterns(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern


def _custom_patterns():
    found = {}
    for pattern in _named_patterns(admin.site.get_urls()):
        name = pattern.name
        if name in SITE_VIEWS or name.endswith(STANDARD):
            continue
        found[name] = pattern
    return found


def _first_pk(model_label):
    model = apps.get_model(model_label)
    return model.objects.order_by("pk").values_list("pk", flat=True).first()


# Which object a URL parameter names, by URL name (object_id: the admin's own model).
PARAMETER_MODELS = {
    "customer_id": "crm.Customer",
    "benefit_id": "loyalty.Benefit",
    "evidence_id": "loyalty.GraceEvidence",
    "answer_id": "workflows.FeedbackAnswer",
    "attachment_id": "workflows.TicketAttachment",
}


def _object_model(name):
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        if name.startswith("{}_{}_".format(*info)) or name == "{}_{}".format(*info):
            return model_admin.model
    return None


def _kwargs(name, pattern):
    kwargs = {}
    for key in pattern.pattern.converters:
        if key in PARAMETER_MODELS:
            kwargs[key] = _first_pk(PARAMETER_MODELS[key]) or 1
        elif key == "object_id":
            model = _object_model(name)
            kwargs[key] = (
                model and model.objects.order_by("pk").values_list("pk", flat=True).first()
            ) or 1
        else:
            kwargs[key] = 1
    return kwargs


def _fingerprint():
    digest = hashlib.sha256()
    for model in apps.get_models():
        if model._meta.app_label not in {"crm", "loyalty", "workflows", "auth"}:
            continue
        rows = model._base_manager.order_by("pk").values_list()
        digest.update(f"{model._meta.label}:{list(rows)!r}".encode())
    return digest.hexdigest()


@pytest.mark.django_db
def test_get_on_every_custom_admin_url_changes_nothing(client):
    call_command("generate_demo_data", customers=10, verbosity=0)
    for command in ("seed_programs", "earn_points"):
        call_command(command, verbosity=0)
    call_command("seed_feedback", demo=True, verbosity=0)
    call_command("seed_tickets", demo=True, verbosity=0)
    client.force_login(UserFactory(username="root", is_superuser=True))

    patterns = _custom_patterns()
    assert set(patterns) >= POST_ONLY, POST_ONLY - set(patterns)
    before = _fingerprint()
    visited = []
    for name, pattern in sorted(patterns.items()):
        url = reverse(f"admin:{name}", kwargs=_kwargs(name, pattern))
        response = client.get(url)
        visited.append((name, response.status_code))
        if name in POST_ONLY:
            assert response.status_code == 405, (name, response.status_code)
        else:
            assert response.status_code < 500, (name, response.status_code)
        assert _fingerprint() == before, f"GET {url} ({name}) changed the database"
    assert len(visited) >= len(POST_ONLY) + 10
    assert sum(status == 200 for _name, status in visited) >= 10, visited
