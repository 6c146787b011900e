"""Customers, keyed by their SourceRecord (source, external id).

A new id creates a customer and its source record; a known one updates the profile fields the
file gives (a blank cell never erases what is stored), with a history row per change. An RM's
import makes the RM the owner of new customers; staff who see every customer leave the owner
empty unless the file names an RM by user name.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from crm.imports.chunks import KindImport, ParsedRow, Plan
from crm.models import Customer, SourceRecord, TeamMembership
from crm.selectors import user_supervised_team_ids

PROFILE = ("name", "phone", "email", "birth_date", "kind", "is_student")
BATCH_SIZE = 1000  # PostgreSQL takes at most 65,535 parameters in one statement


class CustomerImport(KindImport):
    def __init__(self, context) -> None:
        super().__init__(context)
        self._teams: dict[int, int | None] = {}
        self._assignable: set[int] | None = None

    def plan(self, rows: list[ParsedRow]) -> Plan:
        plan = Plan()
        context = self.context
        records = {
            record.external_id: record.customer
            for record in SourceRecord.objects.filter(
                source=context.source, external_id__in={row.values["external_id"] for row in rows}
            ).select_related("customer")
        }
        visible = self._visible({customer.pk for customer in records.values()})
        owners = self._owners({row.values["owner"] for row in rows if row.values.get("owner")})
        changed: dict[int, int] = {}  # customer id -> the row that changes it
        for row in rows:
            customer = records.get(row.values["external_id"])
            if customer is None:
                owner_id, reason = self._owner_for_new(row, owners)
                if reason:
                    plan.refuse(context.refusal(row, "owner", reason))
                    continue
                plan.creates.append((row.values["external_id"], self._new(row, owner_id)))
            elif visible is not None and customer.pk not in visible:
                reason = _("This customer belongs to another relationship manager.")
                plan.refuse(context.refusal(row, "external_id", reason))
            elif customer.pk in changed:
                reason = _("Row %(row)s changes the same customer.") % {"row": changed[customer.pk]}
                plan.refuse(context.refusal(row, "external_id", reason))
            elif _apply(customer, row.values):
                changed[customer.pk] = row.number
                customer.updated_at = context.started_at  # bulk_update skips auto_now
                plan.updates.append(customer)
            else:
                plan.unchanged += 1
        return plan

    def write(self, plan: Plan) -> None:
        context = self.context
        history = {
            "default_user": context.actor,
            "default_change_reason": context.change_reason,
            "default_date": context.started_at,
        }
        if plan.creates:
            customers = bulk_create_with_history(
                [customer for _id, customer in plan.creates],
                Customer,
                batch_size=BATCH_SIZE,
                **history,
            )
            SourceRecord.objects.bulk_create(
                [
                    SourceRecord(
                        customer_id=customer.pk,
                        source=context.source,
                        external_id=external_id,
                        created_at=context.started_at,
                    )
                    for (external_id, _new), customer in zip(plan.creates, customers, strict=True)
                ],
                batch_size=BATCH_SIZE,
            )
        if plan.updates:
            fields = sorted({name for customer in plan.updates for name in customer._changed})
            bulk_update_with_history(
                plan.updates, Customer, [*fields, "updated_at"], batch_size=BATCH_SIZE, **history
            )

    def _new(self, row: ParsedRow, owner_id: int | None) -> Customer:
        values = {name: row.values[name] for name in PROFILE if name in row.values}
        return Customer(
            owner_id=owner_id,
            team_id=self._teams.get(owner_id) if owner_id else None,
            created_at=self.context.started_at,
            updated_at=self.context.started_at,
            **values,
        )

    def _visible(self, customer_ids: set[int]) -> set[int] | None:
        """The customers among these the importing user may change; None: all of them."""
        if self.context.sees_all_customers or not customer_ids:
            return None
        visible = Customer.objects.filter(self.context.visible_q(), pk__in=customer_ids)
        return set(visible.values_list("pk", flat=True))

    def _owners(self, usernames: set[str]) -> dict[str, int]:
        """The active users a chunk names as owners, and each one's first team: two queries."""
        if not usernames:
            return {}
        users = dict(
            get_user_model()
            .objects.filter(username__in=usernames, is_active=True)
            .values_list("username", "pk")
        )
        memberships = TeamMembership.objects.filter(user_id__in=users.values()).order_by("pk")
        for user_id, team_id in memberships.values_list("user_id", "team_id"):
            self._teams.setdefault(user_id, team_id)
        return users

    def _owner_for_new(self, row: ParsedRow, owners: dict[str, int]) -> tuple[int | None, Any]:
        actor = self.context.actor
        username = row.values.get("owner")
        if username:
            owner_id = owners.get(username)
            if owner_id is None:
                return None, _("No active user has this user name.")
            if not self._may_assign(owner_id):
                return None, _("You cannot assign customers to this relationship manager.")
            return owner_id, None
        if actor is None or self.context.sees_all_customers:
            return None, None
        if actor.pk not in self._teams:
            self._owners({actor.get_username()})
        return actor.pk, None

    def _may_assign(self, owner_id: int) -> bool:
        """The rule of crm.services.customers: an RM gives customers to themselves, a supervisor
        to the RMs of the teams they supervise, staff who see everyone to anyone."""
        actor = self.context.actor
        if actor is None or self.context.sees_all_customers or owner_id == actor.pk:
            return True
        if self._assignable is None:
            self._assignable = set(
                TeamMembership.objects.filter(
                    team_id__in=user_supervised_team_ids(actor)
                ).values_list("user_id", flat=True)
            )
        return owner_id in self._assignable


def _apply(customer: Customer, values: dict[str, Any]) -> bool:
    """Set the profile fields the row gives that differ; remember which on the instance."""
    changed = []
    for name in PROFILE:
        if name not in values:
            continue
        current = getattr(customer, name)
        if name == "phone":
            current = current.as_e164 if current else ""
        if current != values[name]:
            setattr(customer, name, values[name])
            changed.append(name)
    customer._changed = changed  # type: ignore[attr-defined]
    return bool(changed)
