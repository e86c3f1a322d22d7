from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from apps.common.exceptions import PlatformError
from apps.credits import services
from apps.credits.models import AutoTopUpConfig, CreditTransaction, UserBalance
from apps.users.requests import AuthenticatedHttpRequest


class GrantForm(forms.Form):
    amount = forms.IntegerField(
        min_value=-10_000_000,
        max_value=10_000_000,
        help_text="Credits to add (a negative amount is an adjustment).",
    )
    reason = forms.CharField(max_length=200)


@admin.register(UserBalance)
class UserBalanceAdmin(admin.ModelAdmin):
    list_display = ["user", "balance", "updated_at"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    readonly_fields = ["user", "balance", "updated_at"]
    actions = ["grant"]

    @admin.action(description="Grant or adjust credits of the selected users")
    def grant(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[UserBalance]
    ) -> TemplateResponse | None:
        form = GrantForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for balance in queryset:
                try:
                    services.credit_grant(
                        user_id=balance.user_id,
                        amount=form.cleaned_data["amount"],
                        reason=form.cleaned_data["reason"],
                        granted_by=request.user,
                    )
                except PlatformError as exc:
                    self.message_user(request, f"{balance.user}: {exc.message}", messages.WARNING)
            self.message_user(request, f"Credits changed for {queryset.count()} users.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Grant or adjust credits",
            "form": form,
            "balances": queryset,
            "action": "grant",
        }
        return TemplateResponse(request, "admin/credits/grant.html", context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # balances move only through the ledger


@admin.register(CreditTransaction)
class CreditTransactionAdmin(admin.ModelAdmin):
    """The ledger, read-only; staff refund entries with the action."""

    list_display = [
        "created_at",
        "user",
        "type",
        "amount",
        "running_balance",
        "is_active",
        "description",
    ]
    list_filter = ["type", "is_active"]
    search_fields = ["user__email", "transaction_key", "description"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    actions = ["refund"]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in CreditTransaction._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Refund the selected usage or top-up entries")
    def refund(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[CreditTransaction]
    ) -> None:
        done = 0
        for entry in queryset:
            try:
                services.credit_refund(transaction_id=entry.pk, refunded_by=request.user)
            except PlatformError as exc:
                self.message_user(request, f"{entry}: {exc.message}", messages.WARNING)
            else:
                done += 1
        self.message_user(request, f"Refunded {done} entries.")


@admin.register(AutoTopUpConfig)
class AutoTopUpConfigAdmin(admin.ModelAdmin):
    list_display = ["user", "enabled", "threshold", "amount", "updated_at"]
    list_select_related = ["user"]
    readonly_fields = ["stripe_customer_id", "payment_method_id", "updated_at"]
