from loyalty.models.grace import GraceEvidence, GracePeriod
from loyalty.models.memberships import (
    DowngradeWarning,
    EvaluationRun,
    Membership,
    MembershipChange,
)
from loyalty.models.programs import Condition, CriterionGroup, Program, Tier
from loyalty.models.stability import StabilityFlag

__all__ = [
    "Condition",
    "CriterionGroup",
    "DowngradeWarning",
    "EvaluationRun",
    "GraceEvidence",
    "GracePeriod",
    "Membership",
    "MembershipChange",
    "Program",
    "StabilityFlag",
    "Tier",
]
