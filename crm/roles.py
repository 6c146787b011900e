"""The staff roles and the permissions each holds. Groups are made from this after `migrate`."""

from django.utils.translation import gettext_noop

RELATIONSHIP_MANAGER = gettext_noop("Relationship manager")
SUPERVISOR = gettext_noop("Supervisor")

_RM_PERMISSIONS = [
    "crm.view_customer",
    "crm.change_customer",
    "crm.add_customer",
    "crm.view_customer_contact",
    "crm.view_consent",
    "crm.add_consent",
    "crm.change_consent",
    "crm.view_preference",
    "crm.add_preference",
    "crm.change_preference",
    "crm.delete_preference",
    "crm.view_sourcerecord",
    "crm.view_transaction",
    "crm.view_balancesnapshot",
    "crm.view_productholding",
    "crm.view_creditevent",
    "crm.view_interaction",
    "crm.add_interaction",
    "crm.view_tag",
    "crm.view_customertag",
    "crm.add_customertag",
    "crm.delete_customertag",
    "crm.view_segment",
]
_SUPERVISOR_PERMISSIONS = [
    *_RM_PERMISSIONS,
    "crm.view_team",
    "crm.view_teammembership",
    "crm.add_tag",
    "crm.change_tag",
    "crm.add_segment",
    "crm.change_segment",
    "crm.delete_segment",
    "crm.add_creditevent",
    "crm.change_creditevent",
    "crm.run_import",
    "crm.view_importjob",
    "crm.add_importjob",
    "crm.view_importrowerror",
    "crm.view_columnmapping",
    "crm.add_columnmapping",
    "crm.change_columnmapping",
    "crm.view_duplicatepair",
    "crm.change_duplicatepair",
    "crm.merge_customers",
    "crm.view_customermerge",
    # PIPL: exports on request, the requests, and who opened their teams' customers. Erasure
    # (crm.erase_customer) is given to named people only, never to a role.
    "crm.export_customer_data",
    "crm.view_privacyrequest",
    "crm.change_privacyrequest",
    "crm.view_customeraccesslog",
    # The nightly jobs' schedules: supervisors may move or pause them, not invent new ones.
    "django_celery_beat.view_periodictask",
    "django_celery_beat.change_periodictask",
    "django_celery_beat.view_crontabschedule",
    "django_celery_results.view_taskresult",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    RELATIONSHIP_MANAGER: _RM_PERMISSIONS,
    SUPERVISOR: _SUPERVISOR_PERMISSIONS,
}


def sync_role_groups(apps=None, **_: object) -> None:
    """Create or update the role groups with their permissions (idempotent)."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = []
        for code in codes:
            app_label, codename = code.split(".")
            wanted.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.add(*wanted)
