"""Teams, tags and segments: the shapes a supervisor gives the customer base."""

from functools import partial

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.filters import CustomerFilter
from crm.models import CustomerTag, Segment, Tag, Team, TeamMembership, Transaction
from crm.selectors import segment_customer_list
from crm.services.tags import tag_rule_parameters_clean
from crm.tasks import recompute_tags_task


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 1
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)
    inlines = (TeamMembershipInline,)


def count_limit() -> int:
    return settings.CRM_ADMIN_COUNT_LIMIT


def capped_count_text(count: int | None) -> str:
    """ "1,234", or "more than 10,000" past the admin's count limit."""
    if count is None:
        return "—"
    limit = count_limit()
    if count > limit:
        return str(_("more than %(limit)s") % {"limit": f"{limit:,}"})
    return f"{count:,}"


def _capped_members_sql() -> RawSQL:
    """A tag's members, counted up to the limit + 1 in the tag list's own query.

    The correlated LIMIT keeps each count to at most limit + 1 index entries of
    (tag, customer), so a list of tags costs one query, however big the tags are.
    """
    customer_tag = connection.ops.quote_name(CustomerTag._meta.db_table)
    tag = connection.ops.quote_name(Tag._meta.db_table)
    return RawSQL(  # noqa: S611
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {customer_tag} ct "  # noqa: S608
        f"WHERE ct.tag_id = {tag}.id LIMIT %s) capped",
        (count_limit() + 1,),
    )


RULE_HELP = _(
    "Rule parameters, as JSON; a parameter left out takes its default. "
    'Top spenders: {"share": 0.1, "days": 365}, the top 10%% of customers by net spend '
    "(purchases minus refunds, CNY) over 365 days, among those who spent; customers tied at "
    'the boundary are all in. Active within: {"days": 30}, a transaction or an interaction '
    'in the last 30 days. Category share: {"category": "mother_and_baby", "share": 0.3, '
    '"days": 365}, the category is at least 30%% of the customer\'s net spend. Categories: '
    "%(categories)s."
)


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ("name", "kind", "description", "rule", "parameters")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parameters"].help_text = RULE_HELP % {
            "categories": ", ".join(Transaction.Category.values)
        }

    def clean(self):
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            cleaned["parameters"] = tag_rule_parameters_clean(
                kind=cleaned.get("kind", ""),
                rule=cleaned.get("rule", ""),
                parameters=cleaned.get("parameters"),
            )
        except ValidationError as error:
            self.add_error(None, error)
        return cleaned


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    form = TagForm
    list_display = ("name", "kind", "rule", "members", "recomputed_at")
    list_filter = ("kind", "rule")
    search_fields = ("name",)
    readonly_fields = ("recomputed_at", "members")
    fieldsets = (
        (None, {"fields": ("name", "kind", "description")}),
        (
            _("Rule"),
            {
                "fields": ("rule", "parameters", "recomputed_at", "members"),
                "description": _(
                    "A rule-based tag's customers are recomputed every night and by the "
                    '"recompute now" action; members added by hand are replaced then. '
                    "A manual tag is never recomputed."
                ),
            },
        ),
    )
    actions = ("recompute_now",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(members_capped=_capped_members_sql())

    @admin.display(description=_("customers"))
    def members(self, tag: Tag) -> str:
        if tag.pk is None:
            return "—"
        count = getattr(tag, "members_capped", None)
        if count is None:
            count = CustomerTag.objects.filter(tag=tag)[: count_limit() + 1].count()
        return capped_count_text(count)

    @admin.action(description=_("Recompute now (rule-based tags)"), permissions=("change",))
    def recompute_now(self, request, queryset: QuerySet[Tag]) -> None:
        rule_tag_ids = list(queryset.filter(kind=Tag.Kind.RULE).values_list("pk", flat=True))
        for tag_id in rule_tag_ids:
            # After commit: the worker must find what this request saved.
            transaction.on_commit(partial(recompute_tags_task.delay, tag_id=tag_id))
        skipped = queryset.exclude(kind=Tag.Kind.RULE).count()
        if rule_tag_ids:
            self.message_user(
                request,
                ngettext(
                    "%(count)d tag will be recomputed in a moment.",
                    "%(count)d tags will be recomputed in a moment.",
                    len(rule_tag_ids),
                )
                % {"count": len(rule_tag_ids)},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d manual tag was left alone: only rule-based tags are recomputed.",
                    "%(count)d manual tags were left alone: only rule-based tags are recomputed.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )


SEGMENT_INVALID = "invalid"


def segment_sizes(segments: list[Segment], *, user) -> dict[int, int | str]:
    """Each segment's live size for this user, counted up to the limit + 1, in one query.

    Every segment is a different filter, so each is its own capped subquery; they are sent
    together as one SELECT. A segment whose saved filter is no longer valid gets "invalid".
    """
    sizes: dict[int, int | str] = {}
    columns: list[str] = []
    params: list = []
    counted: list[int] = []
    for index, segment in enumerate(segments):
        try:
            customers = segment_customer_list(segment=segment, user=user)
        except ValidationError:
            sizes[segment.pk] = SEGMENT_INVALID
            continue
        sql, sql_params = (
            customers.order_by().values("pk")[: count_limit() + 1].query.sql_with_params()
        )
        # The subquery is the ORM's own SQL for the segment; its values stay parameters.
        columns.append(f"(SELECT COUNT(*) FROM ({sql}) segment_{index})")  # noqa: S608
        params.extend(sql_params)
        counted.append(segment.pk)
    if columns:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(columns), params)  # noqa: S608
            row = cursor.fetchone()
        sizes.update(zip(counted, row, strict=True))
    return sizes


class SegmentChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        sizes = segment_sizes(list(self.result_list), user=request.user)
        for segment in self.result_list:
            segment.live_size = sizes.get(segment.pk)


def _customers_url(segment: Segment) -> str:
    return f"{reverse('admin:crm_customer_changelist')}?{urlencode({'segment': segment.pk})}"


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "size", "customers_link", "created_by", "created_at")
    list_select_related = ("created_by",)
    search_fields = ("name",)
    # Each segment on the page is counted live (capped): keep the page short.
    list_per_page = 20
    readonly_fields = ("size", "customers_link", "available_filters")
    fieldsets = (
        (None, {"fields": ("name", "description")}),
        (_("Filter"), {"fields": ("definition", "available_filters")}),
        (_("Customers now"), {"fields": ("size", "customers_link")}),
    )

    def get_changelist(self, request, **kwargs):
        return SegmentChangeList

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets[:2]
        return fieldsets

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "sizes_note": _(
                "Sizes are counted live for the segments on this page, among the customers "
                "you may see, up to %(limit)s."
            )
            % {"limit": f"{count_limit():,}"},
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("customers now"))
    def size(self, segment: Segment) -> str:
        if segment.pk is None or not hasattr(segment, "live_size"):
            return "—"
        if segment.live_size == SEGMENT_INVALID:
            return str(_("invalid filter: fix its definition"))
        return capped_count_text(segment.live_size)

    @admin.display(description=_("customers"))
    def customers_link(self, segment: Segment) -> str:
        if segment.pk is None:
            return "—"
        return format_html('<a href="{}">{}</a>', _customers_url(segment), _("see these customers"))

    @admin.display(description=_("filters you can use"))
    def available_filters(self, segment: Segment) -> str:
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><code>{}</code>: {}</li>",
                ((name, f.label or "") for name, f in CustomerFilter.base_filters.items()),
            ),
        )

    def get_object(self, request, object_id, from_field=None):
        segment = super().get_object(request, object_id, from_field)
        if segment is not None:
            # Counted for the user looking at it, among the customers they may see.
            segment.live_size = segment_sizes([segment], user=request.user).get(segment.pk)
        return segment

    def save_model(self, request, obj, form, change):
        if obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
