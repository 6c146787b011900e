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
from crm.privacy.models import CustomerAccessLog, PrivacyRequest

__all__ = [
    "BalanceSnapshot",
    "ColumnMapping",
    "Consent",
    "CreditEvent",
    "Customer",
    "CustomerAccessLog",
    "CustomerMerge",
    "CustomerTag",
    "DuplicatePair",
    "ImportJob",
    "ImportRowError",
    "Interaction",
    "Preference",
    "PrivacyRequest",
    "ProductHolding",
    "Segment",
    "Source",
    "SourceRecord",
    "Tag",
    "Team",
    "TeamMembership",
    "Transaction",
]
