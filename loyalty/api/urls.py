from django.urls import path

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
]
