"""workflows' permissions for crm's role groups, added after `migrate` (as loyalty/roles.py).

An RM reads their customers' messages, works their call tasks and records sensitive events;
a supervisor also reads the refusals report and the webhook delivery log, and runs campaigns.
"""

from crm import roles

# Feedback: RMs read forms and their customers' answers; supervisors also build and publish
# forms, send them, adopt suggestions and invite experience officers.
_FEEDBACK_READ = [
    f"workflows.view_{model}"
    for model in (
        "feedbackform",
        "formquestion",
        "formversion",
        "feedbackresponse",
        "adoptedsuggestion",
        "experienceofficer",
    )
]
_RM_PERMISSIONS = [
    *_FEEDBACK_READ,
    "workflows.view_message",
    # "Done" on a call task: completed_at only, through the admin action.
    "workflows.change_message",
    "workflows.view_sensitiveevent",
    "workflows.add_sensitiveevent",
    "workflows.view_caresequence",
    "workflows.view_carestep",
    "workflows.view_enrollment",
    # Their customers' campaign memberships (read-only in admin).
    "workflows.view_campaignmember",
]
_SUPERVISOR_PERMISSIONS = [
    *_RM_PERMISSIONS,
    # What messages say, per channel and language.
    "workflows.view_messagetemplate",
    "workflows.add_messagetemplate",
    "workflows.change_messagetemplate",
    "workflows.change_sensitiveevent",
    "workflows.view_webhookendpoint",
    "workflows.view_webhookdelivery",
    # Supervisors define care sequences; RMs read them and their customers' enrollments.
    *[
        f"workflows.{action}_{model}"
        for action in ("add", "change", "delete")
        for model in ("caresequence", "carestep")
    ],
    # Campaigns are the company's: a supervisor creates, schedules and reads their results.
    "workflows.view_campaign",
    "workflows.add_campaign",
    "workflows.change_campaign",
    # How free-text feedback is read (topic rules, the user dictionary); forms sent to a
    # segment, which are the company's, as campaigns.
    *[
        f"workflows.{action}_{model}"
        for action in ("view", "add", "change", "delete")
        for model in ("feedbacktopic", "dictionaryword", "feedbacksending")
    ],
    "workflows.add_feedbackform",
    "workflows.change_feedbackform",
    "workflows.add_formquestion",
    "workflows.change_formquestion",
    "workflows.delete_formquestion",
    "workflows.add_adoptedsuggestion",
    "workflows.add_experienceofficer",
    "workflows.change_experienceofficer",
]

# Tickets in admin (issue 9, admin part): RMs and supervisors work the tickets they see (status,
# notes, attachments through the services); supervisors also keep routing rules, SLA policies,
# business calendars and agents (the admin checks they supervise, too).
_TICKET_WORK = [
    "workflows.view_ticket",
    "workflows.change_ticket",
    "workflows.view_ticketnote",
    "workflows.view_ticketattachment",
]
_RM_PERMISSIONS += _TICKET_WORK
_SUPERVISOR_PERMISSIONS += [
    *_TICKET_WORK,
    *[
        f"workflows.{action}_{model}"
        for action in ("view", "add", "change")
        for model in ("routingrule", "slapolicy", "businesscalendar", "calendarday")
    ],
    "workflows.view_agentprofile",
    "workflows.change_agentprofile",
]

# The supervisors' KPI page (workflows/admin/kpis.py; the page also checks they supervise).
_SUPERVISOR_PERMISSIONS += ["workflows.view_kpisnapshot"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    roles.RELATIONSHIP_MANAGER: _RM_PERMISSIONS,
    roles.SUPERVISOR: _SUPERVISOR_PERMISSIONS,
}


def sync_workflows_permissions() -> None:
    """Give the role groups workflows' permissions (idempotent)."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    create_permissions(apps.get_app_config("workflows"), verbosity=0)
    for group_name, codes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        codenames = [code.split(".")[1] for code in codes]
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="workflows", codename__in=codenames)
        )


# Service tickets: RMs read, open and work their customers' tickets (notes, replies,
# attachments); supervisors also their teams' and set up routing, SLAs, calendars and agents.
_TICKETS_RM = [
    "workflows.view_ticket",
    "workflows.add_ticket",
    "workflows.change_ticket",
    "workflows.view_ticketnote",
    "workflows.add_ticketnote",
    "workflows.view_ticketattachment",
    "workflows.add_ticketattachment",
]
_RM_PERMISSIONS.extend(_TICKETS_RM)
_SUPERVISOR_PERMISSIONS.extend(
    [
        *_TICKETS_RM,
        *[
            f"workflows.{action}_{model}"
            for action in ("view", "add", "change", "delete")
            for model in ("routingrule", "slapolicy", "businesscalendar", "calendarday")
        ],
        "workflows.view_agentprofile",
        "workflows.add_agentprofile",
        "workflows.change_agentprofile",
    ]
)
