from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm.admin import customers, duplicates, imports, quality, records, teams  # noqa: F401
from crm.privacy import admin as privacy_admin  # noqa: F401

admin.site.site_header = _("Loyalty CRM")
admin.site.site_title = _("Loyalty CRM")
admin.site.index_title = _("Back office")
