from django import forms
from django.contrib.auth.forms import AuthenticationForm

from apps.users.models import timezone_names

# The regions of the IANA database's canonical names; the rest (Etc/*, US/*, "Factory",
# "localtime", "GB-Eire", ...) are aliases or technical entries nobody looks for in a list.
TIMEZONE_REGIONS = (
    "Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe",
    "Indian", "Pacific",
)  # fmt: skip


def timezone_choices(current: str = "") -> list[tuple[str, object]]:
    """Time zones grouped by region for a <select>, UTC first; `current` is kept even when it is
    an alias, so a user who chose one through the API can still save the form."""
    groups: dict[str, list[tuple[str, str]]] = {region: [] for region in TIMEZONE_REGIONS}
    for name in sorted(timezone_names()):
        region, _, place = name.partition("/")
        if region in groups and place:
            groups[region].append((name, place.replace("_", " ").replace("/", " / ")))
    choices: list[tuple[str, object]] = [("UTC", "UTC")]
    if current and current != "UTC" and current.partition("/")[0] not in groups:
        choices.append((current, current))
    choices.extend((region, zones) for region, zones in groups.items())
    return choices


class TimeZoneField(forms.ChoiceField):
    """A grouped time-zone select. With `guess=True` the page's script preselects the browser's
    zone (static/js/timezone.js), for forms whose value is only the UTC default so far."""

    def __init__(self, *, guess: bool = False, **kwargs) -> None:
        kwargs.setdefault("label", "Time zone")
        super().__init__(choices=timezone_choices(), **kwargs)
        if guess:
            self.widget.attrs["data-browser-zone"] = ""

    def keep_current(self, current: str) -> None:
        self.choices = timezone_choices(current)
        if current != "UTC":
            self.widget.attrs.pop("data-browser-zone", None)


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class SignUpForm(forms.Form):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    name = forms.CharField(max_length=100, required=False)
    password = forms.CharField(
        max_length=128, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    timezone = TimeZoneField(initial="UTC", guess=True)
