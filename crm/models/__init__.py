"""crm's models: the customer and what they own, imports, and duplicates."""

from crm.models.customers import (
    BalanceSnapshot,
    Consent,
    CreditEvent,
    Customer,
    CustomerTag,
    Interaction,
    Preference,
    ProductHolding,
    Segment,
    Source,
    SourceRecord,
    Tag,
    Team,
    TeamMembership,
    Transaction,
)
from crm.models.duplicates import CustomerMerge, DuplicatePair
from crm.models.imports import ColumnMapping, ImportJob, ImportRowError

__all__ = [
    "BalanceSnapshot",
    "ColumnMapping",
    "Consent",
    "CreditEvent",
    "Customer",
    "CustomerMerge",
    "CustomerTag",
    "DuplicatePair",
    "ImportJob",
    "ImportRowError",
    "Interaction",
    "Preference",
    "ProductHolding",
    "Segment",
    "Source",
    "SourceRecord",
    "Tag",
    "Team",
    "TeamMembership",
    "Transaction",
]
