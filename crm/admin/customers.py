"""The relationship manager's workplace: the customer list and the single customer view."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm import panels
from crm.admin.exports import CustomerExportResource, ScopedExportMixin
from crm.admin.scoping import CustomerScopedAdmin
from crm.filters import CustomerFilter
from crm.masking import mask_email, mask_phone, user_can_see_contact
from crm.models import (
    Consent,
    Customer,
    CustomerTag,
    Preference,
    Segment,
    Tag,
    Team,
    TeamMembership,
)
from crm.privacy.admin import CustomerPrivacyAdminMixin
from crm.selectors import customer_search, user_can_see_all_customers, user_supervised_team_ids
from crm.services.consents import consent_evidence_stamp
from crm.services.customers import PROFILE_FIELDS, customer_assignment_validate


class TagFilter(admin.SimpleListFilter):
    title = _("tag")
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        return list(Tag.objects.values_list("pk", "name"))

    def queryset(self, request, queryset):
        if self.value():
            tagged = CustomerTag.objects.filter(customer=OuterRef("pk"), tag_id=self.value())
            return queryset.filter(Exists(tagged))
        return queryset


class ConsentFilter(admin.SimpleListFilter):
    title = _("marketing consent")
    parameter_name = "consent"

    def lookups(self, request, model_admin):
        return Consent.Channel.choices

    def queryset(self, request, queryset):
        if self.value() in Consent.Channel.values:
            granted = Consent.objects.filter(
                customer=OuterRef("pk"),
                channel=self.value(),
                purpose=Consent.Purpose.MARKETING,
                is_granted=True,
            )
            return queryset.filter(Exists(granted))
        return queryset


class SegmentFilter(admin.SimpleListFilter):
    """The customers a saved segment selects now: the segment admin's "see these customers"."""

    title = _("segment")
    parameter_name = "segment"

    def lookups(self, request, model_admin):
        return list(Segment.objects.values_list("pk", "name"))

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        segment = Segment.objects.filter(pk=value).first() if value.isdigit() else None
        if segment is None:
            return queryset.none()
        customer_filter = CustomerFilter(data=segment.definition or {}, queryset=queryset)
        if not customer_filter.is_valid():
            return queryset.none()
        return customer_filter.qs


class TeamFilter(admin.RelatedFieldListFilter):
    """The teams the user can see customers of, not every team."""

    def field_choices(self, field, request, model_admin):
        teams = Team.objects.all()
        if not user_can_see_all_customers(request.user):
            teams = teams.filter(
                Q(pk__in=user_supervised_team_ids(request.user))
                | Q(teammembership__user=request.user)
            ).distinct()
        return [(team.pk, team.name) for team in teams]


class OwnerFilter(admin.SimpleListFilter):
    """The relationship managers of the teams the user can see, not every user."""

    title = _("relationship manager")
    parameter_name = "owner"

    def lookups(self, request, model_admin):
        memberships = TeamMembership.objects.filter(role=TeamMembership.Role.RELATIONSHIP_MANAGER)
        if not user_can_see_all_customers(request.user):
            memberships = memberships.filter(team_id__in=user_supervised_team_ids(request.user))
        users = get_user_model().objects.filter(pk__in=memberships.values("user_id"))
        return [(user.pk, user.get_full_name() or user.get_username()) for user in users]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(owner_id=self.value())
        return queryset


class PreferenceInline(admin.TabularInline):
    model = Preference
    extra = 1
    fields = ("text", "created_by", "created_at")
    readonly_fields = ("created_by", "created_at")
    verbose_name_plural = _("Preferences: what the next person must know")


class ConsentInlineForm(forms.ModelForm):
    """A changed answer needs its evidence channel; who and when are stamped on save."""

    class Meta:
        model = Consent
        fields = (
            "channel",
            "purpose",
            "is_granted",
            "granted_at",
            "withdrawn_at",
            "evidence",
            "evidence_channel",
        )

    def clean(self):
        cleaned = super().clean()
        if self.has_changed() and not cleaned.get("evidence_channel"):
            self.add_error("evidence_channel", _("Say through what the customer gave this answer."))
        return cleaned


class ConsentInline(admin.TabularInline):
    model = Consent
    form = ConsentInlineForm
    extra = 0
    fields = (
        "channel",
        "purpose",
        "is_granted",
        "granted_at",
        "withdrawn_at",
        "evidence_channel",
        "evidence",
        "recorded_by",
        "recorded_at",
    )
    readonly_fields = ("recorded_by", "recorded_at")

    def get_queryset(self, request):
        # The read-only "recorded by" would load its user once per row.
        return super().get_queryset(request).select_related("recorded_by")


class CustomerTagInline(admin.TabularInline):
    model = CustomerTag
    extra = 0
    autocomplete_fields = ("tag",)
    fields = ("tag", "tagged_at")
    readonly_fields = ("tagged_at",)


class CustomerForm(forms.ModelForm):
    """Checks that the acting user may give the customer to that RM and team."""

    actor = None

    class Meta:
        model = Customer
        fields = (*PROFILE_FIELDS, "owner", "team")

    def clean(self):
        cleaned = super().clean()
        if self.actor is not None and ({"owner", "team"} & set(self.changed_data)):
            try:
                customer_assignment_validate(
                    actor=self.actor, owner=cleaned.get("owner"), team=cleaned.get("team")
                )
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned


@admin.register(Customer)
class CustomerAdmin(
    CustomerPrivacyAdminMixin, ScopedExportMixin, CustomerScopedAdmin, SimpleHistoryAdmin
):
    customer_path = ""
    resource_classes = (CustomerExportResource,)
    form = CustomerForm
    change_form_template = "admin/crm/customer/change_form.html"
    list_display = ("name", "masked_phone", "masked_email", "status", "owner", "team", "created_at")
    list_select_related = ("owner", "team")
    list_filter = (
        "status",
        "kind",
        ("team", TeamFilter),
        OwnerFilter,
        TagFilter,
        ConsentFilter,
        "is_student",
        SegmentFilter,
    )
    search_fields = ("name",)
    search_help_text = _("Name, mobile number, e-mail or an id from a source system.")
    sortable_by = ("name", "created_at")
    list_per_page = 50
    readonly_fields = ("created_at", "updated_at")
    inlines = (PreferenceInline, ConsentInline, CustomerTagInline)
    fieldsets = (
        (_("Profile"), {"fields": ("kind", "name", "phone", "email", "birth_date", "is_student")}),
        (_("Relationship"), {"fields": ("status", "owner", "team", "created_at", "updated_at")}),
    )

    @admin.display(description=_("mobile phone"))
    def masked_phone(self, customer: Customer) -> str:
        return mask_phone(customer.phone)

    @admin.display(description=_("e-mail"))
    def masked_email(self, customer: Customer) -> str:
        return mask_email(customer.email)

    def get_search_results(self, request, queryset, search_term):
        return customer_search(queryset, search_term), False

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if user_can_see_contact(request.user):
            return fieldsets
        hidden = {"phone": "masked_phone", "email": "masked_email"}
        return [
            (title, {**options, "fields": [hidden.get(f, f) for f in options["fields"]]})
            for title, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not user_can_see_contact(request.user):
            readonly += ["masked_phone", "masked_email"]
        return readonly

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        user = request.user
        if db_field.name == "owner" and not user_can_see_all_customers(user):
            team_ids = user_supervised_team_ids(user)
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(Q(pk=user.pk) | Q(teammembership__team_id__in=team_ids))
                .distinct()
            )
        if db_field.name == "team" and not user_can_see_all_customers(user):
            kwargs["queryset"] = Team.objects.filter(
                Q(pk__in=user_supervised_team_ids(user)) | Q(teammembership__user=user)
            ).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def save_model(self, request, obj, form, change):
        if not change and obj.owner_id is None and not user_can_see_all_customers(request.user):
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        was_granted = {
            subform.instance.pk: subform.initial.get("is_granted")
            for subform in formset.forms
            if subform.instance.pk
        }
        for instance in formset.save(commit=False):
            if isinstance(instance, Preference) and instance.created_by_id is None:
                instance.created_by = request.user
            if isinstance(instance, Consent):
                consent_evidence_stamp(
                    instance, actor=request.user, was_granted=was_granted.get(instance.pk)
                )
            instance.save()
        for deleted in formset.deleted_objects:
            deleted.delete()
        formset.save_m2m()

    def change_view_context(self, request, object_id) -> dict:
        customer = Customer.objects.get(pk=object_id)
        return {
            "customer_panels": panels.panels_for(customer, request),
            "preferences": list(customer.preferences.all()[:20]),
        }

    def history_view(self, request, object_id, extra_context=None):
        self.ensure_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self.ensure_visible(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)
