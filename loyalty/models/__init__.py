from loyalty.models.benefits import Benefit, BenefitAllowance, BenefitUse
from loyalty.models.customer_values import CustomerValue, ValueModelRun
from loyalty.models.earning import EarningRule
from loyalty.models.grace import GraceEvidence, GracePeriod
from loyalty.models.memberships import (
    DowngradeWarning,
    EvaluationRun,
    Membership,
    MembershipChange,
)
from loyalty.models.points import (
    IdempotencyKey,
    PointsAccount,
    PointsAdjustment,
    PointsAllocation,
    PointsEntry,
    PointsLot,
)
from loyalty.models.programs import Condition, CriterionGroup, Program, Tier
from loyalty.models.referrals import Referral
from loyalty.models.rewards import Redemption, Reward
from loyalty.models.stability import StabilityFlag

__all__ = [
    "Benefit",
    "BenefitAllowance",
    "BenefitUse",
    "Condition",
    "CriterionGroup",
    "CustomerValue",
    "DowngradeWarning",
    "EarningRule",
    "EvaluationRun",
    "GraceEvidence",
    "GracePeriod",
    "IdempotencyKey",
    "Membership",
    "MembershipChange",
    "PointsAccount",
    "PointsAdjustment",
    "PointsAllocation",
    "PointsEntry",
    "PointsLot",
    "Program",
    "Redemption",
    "Referral",
    "Reward",
    "StabilityFlag",
    "Tier",
    "ValueModelRun",
]
