from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apps.common.exceptions import PlatformError
from apps.users import services
from apps.users.forms import SignInForm, SignUpForm


class SignInView(LoginView):
    template_name = "users/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


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
