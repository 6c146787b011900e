"""The reward catalogue and redemptions in admin.

Supervisors keep the catalogue (with its history). An RM redeems a reward for their own
customer from the customer's page ("Redeem a reward": a form, a confirmation, then
loyalty.services.rewards), and cancels a redemption from its page; a supervisor does both for
their teams' customers. Another RM's customer is a 404. The redeem form carries a key made
when it is shown, so that a double submit redeems once.
"""

import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm.admin.forms import form_add_service_errors
from crm.admin.scoping import CustomerScopedAdmin
from crm.models import Customer
from crm.selectors import customer_visibility_q
from loyalty.catalogue import customer_balances, rewards_for_customer
from loyalty.models import Redemption, Reward
from loyalty.services.rewards import redemption_cancel, reward_redeem

# --- Catalogue ----------------------------------------------------------------------------


class RewardForm(forms.ModelForm):
    class Meta:
        model = Reward
        fields = (
            "program",
            "name",
            "name_zh_hans",
            "description",
            "image",
            "points_price",
            "value",
            "stock",
            "min_tier",
            "valid_from",
            "valid_until",
            "is_active",
        )

    def clean(self):
        cleaned = super().clean()
        program, min_tier = cleaned.get("program"), cleaned.get("min_tier")
        if program is not None and min_tier is not None and min_tier.program_id != program.pk:
            self.add_error("min_tier", _("Choose a tier of the reward's program."))
        return cleaned


@admin.register(Reward)
class RewardAdmin(SimpleHistoryAdmin):
    form = RewardForm
    list_display = (
        "display_name",
        "program",
        "points_price",
        "value",
        "stock_text",
        "min_tier",
        "valid_from",
        "valid_until",
        "is_active",
        "thumbnail",
    )
    list_select_related = ("program", "min_tier__program")
    list_filter = ("program", "is_active")
    search_fields = ("name", "name_zh_hans")
    ordering = ("program__code", "points_price", "id")
    fieldsets = (
        (None, {"fields": ("program", "name", "name_zh_hans", "description", "image")}),
        (_("Price and stock"), {"fields": ("points_price", "value", "stock")}),
        (_("Who and when"), {"fields": ("min_tier", "valid_from", "valid_until", "is_active")}),
    )

    @admin.display(description=_("name"), ordering="name")
    def display_name(self, reward: Reward) -> str:
        return reward.display_name

    @admin.display(description=_("stock"), ordering="stock")
    def stock_text(self, reward: Reward) -> str:
        return str(_("unlimited")) if reward.stock is None else str(reward.stock)

    @admin.display(description=_("image"))
    def thumbnail(self, reward: Reward) -> str:
        if not reward.image:
            return "—"
        return format_html('<img src="{}" alt="" style="max-height: 40px">', reward.image.url)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # redemptions point at it; deactivate instead


# --- Redemptions --------------------------------------------------------------------------


class RewardChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, reward: Reward) -> str:
        if reward.stock is None:
            stock = _("unlimited")
        elif reward.stock == 0:
            stock = _("out of stock")
        else:
            stock = _("%(count)s left") % {"count": reward.stock}
        return _("%(program)s · %(reward)s: %(price)s points (%(stock)s)") % {
            "program": reward.program.display_name,
            "reward": reward.display_name,
            "price": reward.points_price,
            "stock": stock,
        }


class RedeemForm(forms.Form):
    reward = RewardChoiceField(
        label=_("reward"), queryset=Reward.objects.none(), widget=forms.RadioSelect
    )
    # Made when the form is shown: submitting the same form twice redeems once.
    key = forms.UUIDField(widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, customer: Customer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reward"].queryset = rewards_for_customer(
            customer_id=customer.pk, as_of=timezone.localdate()
        )


@admin.register(Redemption)
class RedemptionAdmin(CustomerScopedAdmin):
    customer_path = "account__customer__"
    list_display = (
        "created_at",
        "customer",
        "program",
        "reward",
        "points",
        "status",
        "created_by",
        "cancelled_at",
    )
    list_select_related = (
        "account__customer",
        "account__program",
        "reward__program",
        "created_by",
    )
    list_filter = ("status", "account__program")
    sortable_by = ("created_at",)
    fields = (
        "customer",
        "program",
        "reward",
        "points",
        "status",
        "created_by",
        "created_at",
        "entry",
        "cancelled_by",
        "cancelled_at",
        "cancel_entry",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.list_select_related)

    @admin.display(description=_("customer"))
    def customer(self, redemption: Redemption) -> str:
        return str(redemption.account.customer)

    @admin.display(description=_("program"))
    def program(self, redemption: Redemption) -> str:
        return str(redemption.account.program)

    def has_add_permission(self, request) -> bool:
        return False  # from the customer's page, "Redeem a reward"

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # cancelled through its own view; nothing else changes

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_redeem_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("loyalty.add_redemption")

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("loyalty.change_redemption")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "redeem/<int:customer_id>/",
                wrap(self.redeem_view),
                name="loyalty_redemption_redeem",
            ),
            path(
                "<int:object_id>/cancel/",
                wrap(self.cancel_view),
                name="loyalty_redemption_cancel",
            ),
            *super().get_urls(),
        ]

    def change_view_context(self, request, object_id) -> dict:
        redemption = self.get_queryset(request).get(pk=object_id)
        may_cancel = (
            redemption.status == Redemption.Status.COMPLETED and self.has_cancel_permission(request)
        )
        return {
            "cancel_url": reverse("admin:loyalty_redemption_cancel", args=[object_id])
            if may_cancel
            else None
        }

    def redeem_view(self, request: HttpRequest, customer_id: int) -> HttpResponse:
        """Choose a reward, confirm, redeem; errors (not enough points, out of stock) are
        shown on the form."""
        if not self.has_redeem_permission(request):
            raise PermissionDenied
        customer = get_object_or_404(
            Customer.objects.filter(customer_visibility_q(request.user)), pk=customer_id
        )
        customer_page = reverse("admin:crm_customer_change", args=[customer.pk])
        if request.method == "POST":
            form = RedeemForm(request.POST, customer=customer)
        else:
            form = RedeemForm(initial={"key": uuid.uuid4()}, customer=customer)
        balances = customer_balances(customer_id=customer.pk)
        confirming = False
        if request.method == "POST" and form.is_valid():
            reward = form.cleaned_data["reward"]
            if form.cleaned_data["confirmed"]:
                try:
                    redemption = reward_redeem(
                        actor=request.user,
                        customer=customer,
                        reward=reward,
                        key=f"admin:{form.cleaned_data['key']}",
                    )
                except ValidationError as error:
                    form_add_service_errors(form, error)
                    balances = customer_balances(customer_id=customer.pk)
                else:
                    self.log_addition(request, redemption, [{"added": {}}])
                    self.message_user(
                        request,
                        _("%(reward)s redeemed for %(points)s points.")
                        % {"reward": reward.display_name, "points": redemption.points},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(customer_page)
            else:
                confirming = True
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Redeem a reward for %(customer)s") % {"customer": customer},
            "customer": customer,
            "customer_page": customer_page,
            "form": form,
            "confirming": confirming,
            "balances": _balance_rows(form, balances),
        }
        if confirming:
            reward = form.cleaned_data["reward"]
            balance = balances.get(reward.program_id, 0)
            context.update(
                {
                    "reward": reward,
                    "balance": balance,
                    "balance_after": balance - reward.points_price,
                }
            )
        return TemplateResponse(request, "admin/loyalty/redemption/redeem.html", context)

    def cancel_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """A confirmation page, then the cancellation: the points and the stock come back."""
        self.ensure_visible(request, object_id)
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        redemption = self.get_queryset(request).get(pk=object_id)
        change_page = reverse("admin:loyalty_redemption_change", args=[redemption.pk])
        if request.method == "POST":
            try:
                cancelled = redemption_cancel(
                    actor=request.user, redemption=redemption, key=f"admin:{request.user.pk}"
                )
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.log_change(request, cancelled, [{"changed": {"fields": ["status"]}}])
                self.message_user(
                    request,
                    _("Cancelled: %(points)s points and the reward are given back.")
                    % {"points": cancelled.points},
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(change_page)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Cancel the redemption"),
            "redemption": redemption,
            "change_page": change_page,
        }
        return TemplateResponse(
            request, "admin/loyalty/redemption/cancel_confirmation.html", context
        )


def _balance_rows(form: RedeemForm, balances: dict[int, int]) -> list[tuple[str, int]]:
    """The balance in each program of the rewards on offer (the programs come with them)."""
    programs = {reward.program_id: reward.program for reward in form.fields["reward"].queryset}
    return [(str(program), balances.get(pk, 0)) for pk, program in programs.items()]
