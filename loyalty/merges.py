"""What a customer merge does with memberships: registered with crm's merge from ready()."""

from crm.services.merges import Clash, clash_policy_register
from loyalty.models import Membership, MembershipChange


@clash_policy_register("loyalty.Membership.customer")
def memberships_clash(clash: Clash) -> dict[str, int]:
    """Both customers are members of the same program: the survivor keeps the higher tier,
    and the duplicate's history moves onto the survivor's membership (one row per program)."""
    combined = 0
    for duplicate in clash.rows.select_related("tier"):
        survivor = Membership.objects.select_related("tier").get(
            customer_id=clash.survivor_id, program_id=duplicate.program_id
        )
        MembershipChange.objects.filter(membership=duplicate).update(
            membership=survivor, customer_id=clash.survivor_id
        )
        if duplicate.tier.rank > survivor.tier.rank:
            survivor.tier, survivor.since = duplicate.tier, duplicate.since
            survivor.save(update_fields=["tier", "since"])
        duplicate.delete()
        combined += 1
    return {"combined": combined}
