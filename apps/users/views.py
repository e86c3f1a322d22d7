import math

from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apps.common.exceptions import PlatformError
from apps.common.throttling import sign_in_throttle_wait
from apps.users import services
from apps.users.forms import SignInForm, SignUpForm


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
            return redirect("home")
    return render(request, "users/sign_up.html", {"form": form})
