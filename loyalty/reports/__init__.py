"""Reports on points for supervisors: liability, buying power, earn and burn (read only).

Each report is a few set-based aggregate queries whatever the number of customers or entries;
the admin pages and their CSV exports (loyalty/admin/reports.py) render what these return.
"""

from loyalty.reports.buying_power import (
    BUYING_POWER_POINTS,
    BUYING_POWER_WARNING_DROP,
    BuyingPowerYear,
    ProgramBuyingPower,
    points_buying_power,
)
from loyalty.reports.earn_burn import (
    DEFAULT_MONTHS,
    MAX_MONTHS,
    EarnBurnMonth,
    ProgramEarnBurn,
    default_month_range,
    points_earn_burn,
)
from loyalty.reports.liability import (
    ExpiryBucket,
    LiabilityRow,
    ProgramLiability,
    points_expiry_schedule,
    points_liability,
)
from loyalty.reports.scope import (
    REPORTS_PERMISSION,
    reports_scope_is_company_wide,
    user_can_view_points_reports,
)

__all__ = [
    "BUYING_POWER_POINTS",
    "BUYING_POWER_WARNING_DROP",
    "DEFAULT_MONTHS",
    "MAX_MONTHS",
    "REPORTS_PERMISSION",
    "BuyingPowerYear",
    "EarnBurnMonth",
    "ExpiryBucket",
    "LiabilityRow",
    "ProgramBuyingPower",
    "ProgramEarnBurn",
    "ProgramLiability",
    "default_month_range",
    "points_buying_power",
    "points_earn_burn",
    "points_expiry_schedule",
    "points_liability",
    "reports_scope_is_company_wide",
    "user_can_view_points_reports",
]
