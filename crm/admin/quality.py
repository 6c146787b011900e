"""The data quality page: an admin view of its own, linked in the Customers app of the index.

No model stands behind it, so it is added to the admin site's URLs and app list here rather
than through a ModelAdmin. Supervisors and staff who see every customer open it (see
`crm.selectors_quality.user_can_view_data_quality`); others get a 403.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext_lazy as _

from crm.selectors_quality import (
    MAX_STALE_DAYS,
    data_quality_get,
    stale_days_default,
    user_can_view_data_quality,
)

URL_NAME = "crm_data_quality"


class StaleDaysForm(forms.Form):
    days = forms.IntegerField(
        label=_("No activity for (days)"),
        min_value=1,
        max_value=MAX_STALE_DAYS,
        required=False,
    )


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def _admin_url(name: str, *args) -> str | None:
    """A link to another admin page, if that admin is installed."""
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return None


def data_quality_view(request):
    if not user_can_view_data_quality(request.user):
        raise PermissionDenied
    form = StaleDaysForm(request.GET or None)
    stale_days = stale_days_default()
    if form.is_valid() and form.cleaned_data["days"]:
        stale_days = form.cleaned_data["days"]
    figures = data_quality_get(user=request.user, stale_days=stale_days)
    customers = figures.contact.customers
    contact_rows = [
        (
            _("Missing a mobile phone"),
            figures.contact.missing_phone,
            _("Customers with no mobile number: SMS and calls cannot reach them."),
        ),
        (
            _("Missing an e-mail"),
            figures.contact.missing_email,
            _("Customers with no e-mail address: e-mail campaigns skip them."),
        ),
        (
            _("Missing both"),
            figures.contact.missing_both,
            _("Customers with neither: only a branch visit or the app reaches them."),
        ),
        (
            _("Stale records"),
            figures.stale,
            _(
                "Customers older than %(days)s days with no transaction and no interaction "
                "in the last %(days)s days."
            )
            % {"days": stale_days},
        ),
    ]
    imports_url = _admin_url("crm_importjob_changelist")
    context = {
        **admin.site.each_context(request),
        "title": _("Data quality"),
        "form": form,
        "stale_days": stale_days,
        "customers": customers,
        "contact_rows": [
            {"label": label, "count": count, "share": _share(count, customers), "help": help_text}
            for label, count, help_text in contact_rows
        ],
        "open_duplicates": figures.open_duplicates,
        "duplicates_url": _admin_url("crm_duplicatepair_changelist"),
        "imports_with_refused_rows": figures.imports_with_refused_rows,
        "imports_url": imports_url,
        "recent_refused_imports": [
            {"job": job, "url": _admin_url("crm_importjob_change", job.pk)}
            for job in figures.recent_refused_imports
        ],
    }
    request.current_app = admin.site.name
    return TemplateResponse(request, "admin/crm/quality/data_quality.html", context)


def _install(site: admin.AdminSite) -> None:
    """Add the page to the site's URLs and to the Customers app in the index and sidebar."""
    site_get_urls = site.get_urls
    site_get_app_list = site.get_app_list

    def get_urls():
        page = path("crm/data-quality/", site.admin_view(data_quality_view), name=URL_NAME)
        return [page, *site_get_urls()]

    def get_app_list(request, app_label=None):
        app_list = site_get_app_list(request, app_label)
        if not user_can_view_data_quality(request.user):
            return app_list
        for app in app_list:
            if app["app_label"] == "crm":
                app["models"].append(
                    {
                        "name": _("Data quality"),
                        "object_name": "DataQuality",
                        "admin_url": reverse(f"{site.name}:{URL_NAME}"),
                        "add_url": None,
                        "view_only": True,
                        "perms": {"view": True},
                    }
                )
                app["models"].sort(key=lambda model: str(model["name"]))
        return app_list

    site.get_urls = get_urls  # type: ignore[method-assign]
    site.get_app_list = get_app_list  # type: ignore[method-assign]


_install(admin.site)
