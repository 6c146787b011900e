"""The link to the supervisors' KPI page at the top of the admin index, for those who may see it."""

from django import template
from django.urls import reverse

from workflows.admin.kpis import user_may_view_kpis

register = template.Library()


@register.simple_tag(takes_context=True)
def kpis_dashboard_url(context) -> str:
    request = context.get("request")
    if request is None or not user_may_view_kpis(request.user):
        return ""
    return reverse("admin:workflows_kpisnapshot_dashboard")
