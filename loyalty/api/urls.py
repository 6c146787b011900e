from django.urls import path

from loyalty.api.points import CustomerPointsView, PointsEarnView, PointsEntryListView
from loyalty.api.rewards import (
    CustomerBenefitsView,
    CustomerBenefitUseView,
    CustomerRedemptionsView,
    RedemptionCancelView,
)
from loyalty.api.views import CustomerMembershipsView, ProgramDistributionView

urlpatterns = [
    path(
        "customers/<int:customer_id>/memberships/",
        CustomerMembershipsView.as_view(),
        name="loyalty-customer-memberships",
    ),
    path(
        "programs/<slug:code>/distribution/",
        ProgramDistributionView.as_view(),
        name="loyalty-program-distribution",
    ),
    # Points (loyalty.api.points).
    path(
        "customers/<int:customer_id>/points/",
        CustomerPointsView.as_view(),
        name="loyalty-customer-points",
    ),
    path(
        "customers/<int:customer_id>/points/<slug:program_code>/entries/",
        PointsEntryListView.as_view(),
        name="loyalty-customer-points-entries",
    ),
    path(
        "customers/<int:customer_id>/points/<slug:program_code>/earn/",
        PointsEarnView.as_view(),
        name="loyalty-customer-points-earn",
    ),
    path(
        "customers/<int:customer_id>/redemptions/",
        CustomerRedemptionsView.as_view(),
        name="loyalty-customer-redemptions",
    ),
    path(
        "redemptions/<int:redemption_id>/cancel/",
        RedemptionCancelView.as_view(),
        name="loyalty-redemption-cancel",
    ),
    path(
        "customers/<int:customer_id>/benefits/",
        CustomerBenefitsView.as_view(),
        name="loyalty-customer-benefits",
    ),
    path(
        "customers/<int:customer_id>/benefits/<int:benefit_id>/use/",
        CustomerBenefitUseView.as_view(),
        name="loyalty-customer-benefit-use",
    ),
]
