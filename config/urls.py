from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("healthz/celery", health.healthz_celery, name="healthz-celery"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("f/", include("workflows.feedback.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file, not inline: the strict CSP holds.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/loyalty/", include("loyalty.api.urls")),
    path("api/v1/feedback/", include("workflows.api.urls")),
    path("api/v1/tickets/", include("workflows.api.tickets_urls")),
    path("api/v1/", include("crm.api.urls")),
]
# Uploaded files (imports, grace period evidence) are never served from MEDIA_URL, not even in
# development: the admin views that stream them check who may see them.
