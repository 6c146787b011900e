"""loyalty's permissions for crm's role groups, added after `migrate`.

crm owns the groups and never imports loyalty; loyalty adds its own permissions to them.
"""

from crm import roles

_RM_PERMISSIONS = [
    "loyalty.view_program",
    "loyalty.view_tier",
    "loyalty.view_criteriongroup",
    "loyalty.view_condition",
    "loyalty.view_membership",
    "loyalty.view_membershipchange",
    "loyalty.view_downgradewarning",
    # Grace periods: an RM files requests with evidence; supervisors decide (change).
    "loyalty.view_graceperiod",
    "loyalty.add_graceperiod",
    "loyalty.view_graceevidence",
    "loyalty.add_graceevidence",
    # Unusual spends of their customers: accepted or rejected through the services.
    "loyalty.view_stabilityflag",
    "loyalty.change_stabilityflag",
    # Points: read the ledger of their customers; request adjustments (with a reason). Earning
    # through the API (add_pointsentry) is for system users only: no staff group holds it.
    "loyalty.view_pointsaccount",
    "loyalty.view_pointsentry",
    "loyalty.view_pointsadjustment",
    "loyalty.add_pointsadjustment",
    # Earning rules are read by all; referrals are recorded by the customer's RM.
    "loyalty.view_earningrule",
    "loyalty.view_referral",
    "loyalty.add_referral",
    # Rewards: an RM redeems for their customers, and cancels (points and stock come back).
    "loyalty.view_reward",
    "loyalty.view_redemption",
    "loyalty.add_redemption",
    "loyalty.change_redemption",
    # Tier benefits: an RM sees what their customers hold and records a use.
    "loyalty.view_benefit",
    "loyalty.view_benefitallowance",
    "loyalty.view_benefituse",
    "loyalty.add_benefituse",
]
_SUPERVISOR_PERMISSIONS = [
    *_RM_PERMISSIONS,
    *(
        f"loyalty.{action}_{model}"
        for action in ("add", "change")
        for model in ("program", "tier", "criteriongroup", "condition")
    ),
    "loyalty.view_evaluationrun",
    # "Evaluate now" on a membership; the tier itself is written by the evaluation only.
    "loyalty.change_membership",
    # Approve or reject a grace period request of their teams' customers.
    "loyalty.change_graceperiod",
    # Liability, buying power, earn and burn, over their teams' customers (loyalty/reports).
    "loyalty.view_points_reports",
    # Approve or reject a points adjustment above the threshold (never their own request).
    "loyalty.approve_pointsadjustment",
    # Earning rules, and their "Preview earning" page (change_earningrule).
    "loyalty.add_earningrule",
    "loyalty.change_earningrule",
    # The reward catalogue and the tier benefits.
    *(
        f"loyalty.{action}_{model}"
        for action in ("add", "change")
        for model in ("reward", "benefit")
    ),
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    roles.RELATIONSHIP_MANAGER: _RM_PERMISSIONS,
    roles.SUPERVISOR: _SUPERVISOR_PERMISSIONS,
}


def sync_loyalty_permissions() -> None:
    """Give the role groups loyalty's permissions (idempotent)."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    create_permissions(apps.get_app_config("loyalty"), verbosity=0)
    for group_name, codes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        codenames = [code.split(".")[1] for code in codes]
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="loyalty", codename__in=codenames)
        )
