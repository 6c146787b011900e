"""The points reports in admin: liability, buying power, earn and burn, each with a CSV export.

No model stands behind these pages: they are added to the admin site's URLs and to the
loyalty app of the index here (as crm's data quality page is). Users with
`loyalty.view_points_reports` (supervisors) open them; anyone else gets a 403. The figures
cover the customers the user may see (see `loyalty.reports.scope`).

The exports write every text cell through `crm.spreadsheets.spreadsheet_safe` (a program
named "=1+1" is written "'=1+1"); numbers stay numbers.
"""

import csv
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.spreadsheets import spreadsheet_safe
from loyalty.reports import (
    BUYING_POWER_POINTS,
    BUYING_POWER_WARNING_DROP,
    MAX_MONTHS,
    default_month_range,
    points_buying_power,
    points_earn_burn,
    points_liability,
    reports_scope_is_company_wide,
    user_can_view_points_reports,
)
from loyalty.reports.months import month_range

LIABILITY, BUYING_POWER, EARN_BURN = (
    "loyalty_points_liability",
    "loyalty_points_buying_power",
    "loyalty_points_earn_burn",
)
REPORTS = [
    (LIABILITY, "liability", _("Points liability")),
    (BUYING_POWER, "buying-power", _("Points buying power")),
    (EARN_BURN, "earn-burn", _("Points earned and burned")),
]
_MONTH_FORMAT = "%Y-%m"


class MonthRangeForm(forms.Form):
    first = forms.DateField(
        label=_("From month"),
        input_formats=[_MONTH_FORMAT],
        widget=forms.DateInput(attrs={"type": "month"}, format=_MONTH_FORMAT),
    )
    last = forms.DateField(
        label=_("To month"),
        input_formats=[_MONTH_FORMAT],
        widget=forms.DateInput(attrs={"type": "month"}, format=_MONTH_FORMAT),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        if first and last:
            if first > last:
                raise forms.ValidationError(
                    _("The first month comes after the last one."), code="reversed_range"
                )
            if len(month_range(first, last)) > MAX_MONTHS:
                raise forms.ValidationError(
                    _("Choose at most %(months)s months.") % {"months": MAX_MONTHS},
                    code="range_too_long",
                )
        return data


def liability_view(request: HttpRequest) -> HttpResponse:
    _check(request)
    report = points_liability(user=request.user)
    if _wants_csv(request):
        return _csv_response("points-liability.csv", _liability_header(), _liability_rows(report))
    return _render(request, LIABILITY, "liability.html", {"report": report})


def buying_power_view(request: HttpRequest) -> HttpResponse:
    _check(request)
    report = points_buying_power()
    if _wants_csv(request):
        return _csv_response(
            "points-buying-power.csv", _buying_power_header(), _buying_power_rows(report)
        )
    context = {
        "report": report,
        "points": BUYING_POWER_POINTS,
        "warning_drop": f"{BUYING_POWER_WARNING_DROP:.0%}",
    }
    return _render(request, BUYING_POWER, "buying_power.html", context)


def earn_burn_view(request: HttpRequest) -> HttpResponse:
    _check(request)
    first, last = default_month_range()
    if "first" in request.GET or "last" in request.GET:
        form = MonthRangeForm(request.GET)
    else:
        form = MonthRangeForm(initial={"first": first, "last": last})
    report = None
    if not form.is_bound or form.is_valid():
        if form.is_bound:
            first, last = form.cleaned_data["first"], form.cleaned_data["last"]
        report = points_earn_burn(user=request.user, first=first, last=last)
    if _wants_csv(request):
        if report is None:
            return HttpResponse(
                "\n".join(str(error) for errors in form.errors.values() for error in errors),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        filename = f"points-earn-burn-{first:%Y-%m}-{last:%Y-%m}.csv"
        return _csv_response(filename, _earn_burn_header(), _earn_burn_rows(report))
    query = f"first={first:%Y-%m}&last={last:%Y-%m}"
    return _render(
        request, EARN_BURN, "earn_burn.html", {"report": report, "form": form, "query": query}
    )


# -- the pages ---------------------------------------------------------------------------------


def _check(request: HttpRequest) -> None:
    if not user_can_view_points_reports(request.user):
        raise PermissionDenied


def _wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def _render(
    request: HttpRequest, url_name: str, template: str, context: dict[str, Any]
) -> TemplateResponse:
    title = next(title for name, _slug, title in REPORTS if name == url_name)
    request.current_app = admin.site.name
    context = {
        **admin.site.each_context(request),
        "title": title,
        "today": timezone.localdate(),
        "is_company_wide": reports_scope_is_company_wide(request.user),
        "reports": [
            {"title": report_title, "url": reverse(f"admin:{name}"), "current": name == url_name}
            for name, _slug, report_title in REPORTS
        ],
        **context,
    }
    return TemplateResponse(request, f"admin/loyalty/reports/{template}", context)


# -- the exports -------------------------------------------------------------------------------


def _cell(value: object) -> object:
    if isinstance(value, Promise):
        value = str(value)
    return spreadsheet_safe(value)


def _csv_response(filename: str, header: list, rows: Iterable[list]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # With a BOM, Excel on a Chinese Windows opens UTF-8 CSV without garbling the names.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([_cell(value) for value in header])
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return response


def _liability_header() -> list:
    return [
        _("section"),
        _("program"),
        _("tier or month"),
        _("accounts"),
        _("points"),
        pgettext_lazy("money", "value"),
    ]


def _liability_rows(report) -> Iterable[list]:
    for item in report:
        program = item.program.display_name
        for row in item.rows:
            tier = row.tier.display_name if row.tier else _("not evaluated yet")
            yield [_("liability"), program, tier, row.accounts, row.points, row.value]
        yield [_("liability"), program, _("total"), item.accounts, item.points, item.value]
        yield [
            _("negative balances"),
            program,
            "",
            item.negative_accounts,
            item.negative_points,
            item.negative_value,
        ]
        for bucket in item.expiry:
            yield [_("expires"), program, _bucket_label(bucket), "", bucket.points, bucket.value]


def _bucket_label(bucket) -> str:
    if bucket.is_overdue:
        return str(_("overdue"))
    if bucket.month is None:
        return str(_("later"))
    return f"{bucket.month:%Y-%m}"


def _buying_power_header() -> list:
    return [
        _("program"),
        _("year"),
        _("rewards"),
        _("value of %(points)s points") % {"points": BUYING_POWER_POINTS},
        _("change against the previous year (%)"),
        _("warning"),
    ]


def _buying_power_rows(report) -> Iterable[list]:
    for item in report:
        for year in item.years:
            yield [
                item.program.display_name,
                year.year,
                year.rewards,
                "" if year.value is None else year.value,
                "" if year.change_percent is None else year.change_percent,
                _("yes") if year.is_warning else "",
            ]


def _earn_burn_header() -> list:
    return [
        _("program"),
        _("month"),
        _("earned"),
        _("redeemed"),
        _("cancelled redemptions"),
        _("burned"),
        _("expired"),
        _("refund reversals"),
        _("adjusted"),
        _("net"),
    ]


def _earn_burn_rows(report) -> Iterable[list]:
    for item in report:
        for month in item.months:
            yield [
                item.program.display_name,
                f"{month.month:%Y-%m}",
                month.earned,
                month.redeemed,
                month.cancelled,
                month.burned,
                month.expired,
                month.refunds,
                month.adjusted,
                month.net,
            ]


# -- the admin site ----------------------------------------------------------------------------

_VIEWS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    LIABILITY: liability_view,
    BUYING_POWER: buying_power_view,
    EARN_BURN: earn_burn_view,
}


def _install(site: admin.AdminSite) -> None:
    """Add the pages to the site's URLs and to the loyalty app in the index and sidebar."""
    site_get_urls = site.get_urls
    site_get_app_list = site.get_app_list

    def get_urls():
        pages = [
            path(f"loyalty/points-reports/{slug}/", site.admin_view(_VIEWS[name]), name=name)
            for name, slug, _title in REPORTS
        ]
        return [*pages, *site_get_urls()]

    def get_app_list(request, app_label=None):
        app_list = site_get_app_list(request, app_label)
        if not user_can_view_points_reports(request.user):
            return app_list
        for app in app_list:
            if app["app_label"] == "loyalty":
                app["models"] += [
                    {
                        "name": title,
                        "object_name": name,
                        "admin_url": reverse(f"{site.name}:{name}"),
                        "add_url": None,
                        "view_only": True,
                        "perms": {"view": True},
                    }
                    for name, _slug, title in REPORTS
                ]
                app["models"].sort(key=lambda model: str(model["name"]))
        return app_list

    site.get_urls = get_urls  # type: ignore[method-assign]
    site.get_app_list = get_app_list  # type: ignore[method-assign]


_install(admin.site)
