import math

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import (
    LoginView,
    PasswordResetCompleteView,
    PasswordResetConfirmView,
    PasswordResetDoneView,
    PasswordResetView,
)
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from apps.common.exceptions import PlatformError
from apps.common.throttling import sign_in_throttle_wait
from apps.users import recovery, services
from apps.users.forms import SignInForm, SignUpForm
from apps.users.requests import AuthenticatedHttpRequest


class SignInView(LoginView):
    template_name = "users/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        # The same budgets as POST /api/auth/token: per IP and per account.
        wait = sign_in_throttle_wait(request, field="username")
        if wait is None:
            return super().post(request, *args, **kwargs)
        # An unbound form: validating the bound one would try the password after all.
        form = self.get_form_class()(request, initial={"username": request.POST.get("username")})
        form.cleaned_data = {}
        form.add_error(None, f"Too many sign-in attempts. Try again in {math.ceil(wait)} s.")
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(math.ceil(wait))
        return response


def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_register(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                name=form.cleaned_data["name"],
                timezone_name=form.cleaned_data["timezone"],
            )
        except PlatformError as exc:
            form.add_error(None, exc.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            recovery.user_send_verification_email(user=user)
            return redirect("home")
    return render(request, "users/sign_up.html", {"form": form})


class ResetRequestView(PasswordResetView):
    """Mails a reset link (Django's tokens) to an active account with that address; the answer
    is the same whether one exists or not, so the page tells nobody who has an account."""

    template_name = "users/password_reset_form.html"
    email_template_name = "users/emails/password_reset.txt"
    html_email_template_name = "users/emails/password_reset.html"
    subject_template_name = "users/emails/password_reset_subject.txt"
    success_url = reverse_lazy("password-reset-done")

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        # One budget with sign-in (per IP and per address): no mail-bombing an inbox.
        wait = sign_in_throttle_wait(request, field="email")
        if wait is None:
            return super().post(request, *args, **kwargs)
        form = self.get_form_class()(initial={"email": request.POST.get("email")})
        form.cleaned_data = {}
        form.add_error(None, f"Too many requests. Try again in {math.ceil(wait)} s.")
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(math.ceil(wait))
        return response

    def form_valid(self, form) -> HttpResponse:
        # Links point at SITE_URL (behind a proxy the request's host may be an internal one).
        self.extra_email_context = {"site_url": recovery.site_url()}
        return super().form_valid(form)


class ResetDoneView(PasswordResetDoneView):
    template_name = "users/password_reset_done.html"


class ResetConfirmView(PasswordResetConfirmView):
    template_name = "users/password_reset_confirm.html"
    success_url = reverse_lazy("password-reset-complete")

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        # The link came to the address: following it proves the address too.
        recovery.user_mark_email_verified(user=form.user)
        return response


class ResetCompleteView(PasswordResetCompleteView):
    template_name = "users/password_reset_complete.html"


def verify_email(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = recovery.user_verify_email(uidb64=uidb64, token=token)
    status = 200 if user is not None else 400
    return render(request, "users/verify_email.html", {"verified": user}, status=status)


@login_required
@require_POST
def verify_email_resend(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.user.email_verified_at is not None:
        messages.info(request, "Your email address is already confirmed.")
    elif recovery.user_send_verification_email(user=request.user):
        messages.success(request, f"We sent a confirmation link to {request.user.email}.")
    else:
        messages.error(request, "The email could not be sent; try again later.")
    return redirect("dashboard:profile")
