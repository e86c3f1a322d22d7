"""Forms of the dashboard. The run form is built from a version's run-input JSON schema
(`apps.graphs.analysis.graph_input_schema`), one field per Input node."""

import json
from typing import Any, TypeVar

from django import forms

from apps.common.exceptions import ValidationFailed
from apps.common.numbers import parse_int
from apps.common.parsers import load_json
from apps.dashboard.presenters import provider_title
from apps.schedules.models import Schedule
from apps.users.forms import TimeZoneField
from apps.users.models import NOTIFICATION_PREFERENCES, APIKey

MAX_IMPORT_BYTES = 2 * 1024 * 1024
_Field = TypeVar("_Field", bound=forms.Field)


def _own_field(form: forms.BaseForm, name: str, kind: type[_Field]) -> _Field:
    """The form's own copy of a declared field, as the type it was declared with."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"{name} is a {type(field).__name__}, not a {kind.__name__}")
    return field


class JSONField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if text in ("", None):
            return None
        try:
            return load_json(text, what="The value")
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message) from None

    def prepare_value(self, value: Any) -> Any:
        return value if isinstance(value, str) or value is None else json.dumps(value)


class AnyValueField(JSONField):
    """An input of no declared type: JSON when the text is JSON (numbers, lists, objects),
    the text itself otherwise."""

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except forms.ValidationError:
            return value


def _field_for(schema: dict[str, Any], *, required: bool) -> forms.Field:
    kind = schema.get("type")
    options: dict[str, Any] = {
        "label": schema.get("title") or "",
        "help_text": schema.get("description", ""),
        "initial": schema.get("default"),
        "required": required,
    }
    if kind == "string":
        return forms.CharField(strip=False, widget=forms.Textarea(attrs={"rows": 2}), **options)
    if kind == "integer":
        return forms.IntegerField(**options)
    if kind == "number":
        return forms.FloatField(**options)
    if kind == "boolean":
        return forms.BooleanField(**{**options, "required": False})
    if kind in ("object", "array"):
        return JSONField(**options)
    options["help_text"] = options["help_text"] or "Text, or JSON for numbers, lists and objects."
    return AnyValueField(**options)


class RunForm(forms.Form):
    """Inputs of one run; field names are the Input nodes' names, prefixed so that a name can
    never collide with the form's own fields."""

    PREFIX = "input__"
    CREDENTIALS_PREFIX = "credentials__"

    def __init__(
        self,
        *args: Any,
        schema: dict[str, Any],
        credentials: dict[str, list[tuple[str, str]]] | None = None,
        **kwargs: Any,
    ) -> None:
        """`credentials`: for each provider the graph's blocks use, the user's credentials
        for it as (id, title); the run may pick one (else the newest, else the platform's)."""
        super().__init__(*args, **kwargs)
        required = set(schema.get("required", []))
        for name, pin in schema.get("properties", {}).items():
            field = _field_for(pin, required=name in required)
            field.label = field.label or name
            self.fields[self.PREFIX + name] = field
        for provider, choices in (credentials or {}).items():
            self.fields[self.CREDENTIALS_PREFIX + provider] = forms.ChoiceField(
                label=f"Credential for {provider_title(provider)}",
                required=False,
                choices=[("", "My newest, else the platform's (costs apply)"), *choices],
            )

    def credentials_inputs(self) -> dict[str, str]:
        return {
            name.removeprefix(self.CREDENTIALS_PREFIX): value
            for name, value in self.cleaned_data.items()
            if name.startswith(self.CREDENTIALS_PREFIX) and value
        }

    def run_inputs(self) -> dict[str, Any]:
        return {
            name.removeprefix(self.PREFIX): value
            for name, value in self.cleaned_data.items()
            if name.startswith(self.PREFIX) and value is not None
        }

    def input_field_name(self, name: str) -> str:
        return self.PREFIX + name


# The API's bound on max_credits (executions' ExecuteRequestSerializer): a PostgreSQL integer.
MAX_BUDGET = 2**31 - 1


class BudgetField(forms.Field):
    """Credits as a person types them: ASCII digits only (`parse_int`, so neither "1.5", "1e3"
    nor "١٢" slip through), at least 1; empty is no cap."""

    widget = forms.NumberInput(attrs={"min": 1, "step": 1, "inputmode": "numeric"})
    default_error_messages = {
        "invalid": "Enter a whole number of credits, e.g. 50, or leave it empty for no cap.",
        "too_small": "A budget is at least 1 credit; leave it empty for no cap.",
        "too_large": f"A budget is at most {MAX_BUDGET} credits.",
    }

    def to_python(self, value: Any) -> int | None:
        text = str(value).strip() if value is not None else ""
        if not text:
            return None
        number = parse_int(text, signed=True)
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if number < 1:
            raise forms.ValidationError(self.error_messages["too_small"], code="too_small")
        if number > MAX_BUDGET:
            raise forms.ValidationError(self.error_messages["too_large"], code="too_large")
        return number


class BudgetForm(forms.Form):
    """A run's budget cap (SPEC §17), passed as `max_credits` to the service the API uses."""

    max_credits = BudgetField(
        label="Budget (credits)",
        required=False,
        help_text="Optional. A node that would pass it is not started: the run fails with "
        "BUDGET_EXCEEDED. This run only (not saved with presets or schedules).",
    )

    def budget(self) -> int | None:
        value: int | None = self.cleaned_data["max_credits"]
        return value


class PresetForm(forms.Form):
    preset_name = forms.CharField(label="Preset name", max_length=100)


class ImportForm(forms.Form):
    file = forms.FileField(label="Graph JSON file")

    def clean_file(self) -> dict[str, Any]:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError("The file is larger than 2 MB.")
        try:
            document = load_json(upload.read().decode("utf-8"), what="The file")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message) from None
        if not isinstance(document, dict):
            raise forms.ValidationError("The file must hold one JSON object (an exported graph).")
        return document


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=100, required=False)
    timezone = TimeZoneField(guess=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _own_field(self, "timezone", TimeZoneField).keep_current(
            self.initial.get("timezone", "UTC")
        )


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100)
    permissions = forms.MultipleChoiceField(
        choices=APIKey.Permission.choices, widget=forms.CheckboxSelectMultiple
    )


class ApiKeyPermissionsForm(forms.Form):
    permissions = forms.MultipleChoiceField(choices=APIKey.Permission.choices)


class TopUpForm(forms.Form):
    amount = forms.IntegerField(label="Credits", min_value=1, initial=500)


class AutoTopUpForm(forms.Form):
    enabled = forms.BooleanField(label="Top up automatically", required=False)
    threshold = forms.IntegerField(
        label="When the balance falls below", min_value=0, max_value=10**9, initial=100
    )
    amount = forms.IntegerField(label="Buy this many credits", min_value=1, max_value=10**9)


# --- store and library ------------------------------------------------------------------------


class SubmitForm(forms.Form):
    """A version of one of the user's agents, submitted to the store for review."""

    name = forms.CharField(max_length=100)
    sub_heading = forms.CharField(label="One-line summary", max_length=200, required=False)
    description = forms.CharField(
        max_length=10_000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    categories = forms.CharField(
        max_length=500, required=False, help_text="Comma-separated, e.g. research, writing."
    )
    changes_summary = forms.CharField(label="What changed", max_length=500, required=False)

    def submission_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["categories"] = [c.strip() for c in data["categories"].split(",") if c.strip()]
        return data


class StoreReviewForm(forms.Form):
    score = forms.TypedChoiceField(
        label="Rating",
        coerce=int,
        choices=[(n, f"{n} star{'s' if n > 1 else ''}") for n in range(5, 0, -1)],
    )
    comments = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


# --- schedules ----------------------------------------------------------------------------


CATCH_UP_CHOICES = [
    (Schedule.CatchUp.SKIP, "Skip them"),
    (Schedule.CatchUp.RUN_ONCE, "Run once when the scheduler is back"),
]


class ScheduleForm(forms.Form):
    DEFAULT_CRON = "0 9 * * *"

    schedule_name = forms.CharField(label="Name", max_length=100)
    cron = forms.CharField(
        max_length=200,
        initial=DEFAULT_CRON,
        help_text="minute hour day-of-month month day-of-week, e.g. 0 9 * * 1-5.",
    )
    timezone = TimeZoneField(guess=True)
    catch_up = forms.ChoiceField(
        label="Missed firings",
        choices=CATCH_UP_CHOICES,
        initial=Schedule.CatchUp.SKIP,
        required=False,
        help_text="Firings missed while the scheduler was down.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _own_field(self, "timezone", TimeZoneField).keep_current(
            self.initial.get("timezone", "UTC")
        )
        # The fields sit in the schedules card but are sent with the run form's inputs.
        for field in self.fields.values():
            field.widget.attrs["form"] = "run-form"

    def clean_catch_up(self) -> str:
        return str(self.cleaned_data["catch_up"] or Schedule.CatchUp.SKIP)


class CatchUpForm(forms.Form):
    """The schedule page's own form: what happens to firings missed while beat was down."""

    catch_up = forms.ChoiceField(
        label="Firings missed while the scheduler was down", choices=CATCH_UP_CHOICES
    )

    def choice_label(self) -> str:
        """What the chosen value means, in words, for the confirmation message."""
        labels = {
            Schedule.CatchUp.SKIP: "missed firings are skipped",
            Schedule.CatchUp.RUN_ONCE: "missed firings run once when the scheduler is back",
        }
        return labels[self.cleaned_data["catch_up"]]


# --- account ------------------------------------------------------------------------------


class NotificationPreferencesForm(forms.Form):
    max_emails_per_day = forms.IntegerField(
        label="Emails a day at most", min_value=0, max_value=1000, help_text="0 sends none."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in NOTIFICATION_PREFERENCES:
            label = name.removeprefix("notify_on_").replace("_", " ").capitalize()
            self.fields[name] = forms.BooleanField(label=f"Email: {label}", required=False)


class CredentialForm(forms.Form):
    """Every credential type but OAuth2 (that one is connected): the service checks that the
    provider takes the type and which fields the type needs."""

    provider = forms.ChoiceField()
    credential_type = forms.ChoiceField(
        label="Type",
        required=False,
        choices=[
            ("api_key", "API key or token"),
            ("user_password", "Username and password"),
            ("host_headers", "Server URL and headers"),
        ],
    )
    title = forms.CharField(max_length=100)
    api_key = forms.CharField(
        label="API key",
        max_length=1000,
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )
    username = forms.CharField(max_length=255, required=False)
    password = forms.CharField(
        max_length=1000, required=False, widget=forms.PasswordInput(render_value=False)
    )
    headers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For server URL and headers: one `Name: value` a line.",
    )
    base_url = forms.CharField(
        label="Base URL",
        required=False,
        max_length=500,
        help_text="A server of your own: an OpenAI-compatible API, GitHub Enterprise, "
        "smtps://mail.example.com:465, imaps://mail.example.com:993…",
    )

    def __init__(self, *args: Any, providers: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _own_field(self, "provider", forms.ChoiceField).choices = providers

    def clean_credential_type(self) -> str:
        return self.cleaned_data["credential_type"] or "api_key"

    def clean_headers(self) -> dict[str, str] | None:
        lines = [line for line in self.cleaned_data["headers"].splitlines() if line.strip()]
        if not lines:
            return None
        headers = {}
        for line in lines:
            name, sep, value = line.partition(":")
            if not sep or not name.strip():
                raise forms.ValidationError(f"“{line[:60]}” is not `Name: value`.")
            headers[name.strip()] = value.strip()
        return headers


class ChatSessionForm(forms.Form):
    title = forms.CharField(max_length=200, required=False)
    model = forms.ChoiceField()
    system_prompt = forms.CharField(
        label="System prompt", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    credential = forms.ChoiceField(label="Credentials", required=False)
    copilot = forms.BooleanField(
        label="Copilot: the assistant may build, change and (when you confirm) run your agents",
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        models: list[tuple[str, str]],
        credentials: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _own_field(self, "model", forms.ChoiceField).choices = models
        newest = ("", "Newest of mine, else the platform's")
        _own_field(self, "credential", forms.ChoiceField).choices = [newest, *credentials]
