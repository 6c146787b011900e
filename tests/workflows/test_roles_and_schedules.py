import pytest
from django_celery_beat.models import PeriodicTask

from workflows.apps import _ensure_schedules, _sync_role_permissions

pytestmark = pytest.mark.django_db


def test_roles_hold_workflows_permissions(rm, supervisor):
    assert rm.has_perm("workflows.view_message")
    assert rm.has_perm("workflows.add_sensitiveevent")
    assert not rm.has_perm("workflows.view_webhookdelivery")
    assert supervisor.has_perm("workflows.view_webhookdelivery")


def test_the_webhook_schedule_runs_every_minute_once():
    _ensure_schedules(None)
    _ensure_schedules(None)
    _sync_role_permissions(None)
    task = PeriodicTask.objects.get(task="workflows.tasks.webhooks_deliver_task")
    assert (task.crontab.minute, task.crontab.hour) == ("*", "*")


def test_the_task_posts_due_deliveries(monkeypatch):
    from workflows.models import WebhookDelivery, WebhookEndpoint
    from workflows.tasks import webhooks_deliver_task
    from workflows.webhooks import deliver
    from workflows.webhooks.emit import webhook_event_emit

    monkeypatch.setattr(deliver, "http_post", lambda *args: 204)
    WebhookEndpoint.objects.create(name="erp", url="https://example.com/", events=["tier.changed"])
    webhook_event_emit(event_type="tier.changed", payloads=[{"change_id": 1}])
    assert webhooks_deliver_task.apply().get()["delivered"] == 1
    assert WebhookDelivery.objects.get().state == "delivered"


def test_campaign_permissions_and_schedules(rm, supervisor):
    assert supervisor.has_perm("workflows.add_campaign")
    assert supervisor.has_perm("workflows.view_campaignmember")
    assert not rm.has_perm("workflows.view_campaign")
    assert rm.has_perm("workflows.view_campaignmember")
    _ensure_schedules(None)
    launch = PeriodicTask.objects.get(task="workflows.tasks.campaigns_launch_task")
    assert (launch.crontab.minute, launch.crontab.hour) == ("*", "*")
    conversions = PeriodicTask.objects.get(task="workflows.tasks.campaigns_conversions_task")
    assert (conversions.crontab.minute, conversions.crontab.hour) == ("17", "*")
