"""Forms of the dashboard. The run form is built from a version's run-input JSON schema
(`apps.graphs.analysis.graph_input_schema`), one field per Input node."""

import json
from typing import Any

from django import forms

from apps.users.models import APIKey, timezone_names

MAX_IMPORT_BYTES = 2 * 1024 * 1024


class JSONField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if text in ("", None):
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}).") from None

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

    def __init__(self, *args: Any, schema: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        required = set(schema.get("required", []))
        for name, pin in schema.get("properties", {}).items():
            field = _field_for(pin, required=name in required)
            field.label = field.label or name
            self.fields[self.PREFIX + name] = field

    def run_inputs(self) -> dict[str, Any]:
        return {
            name.removeprefix(self.PREFIX): value
            for name, value in self.cleaned_data.items()
            if name.startswith(self.PREFIX) and value is not None
        }

    def input_field_name(self, name: str) -> str:
        return self.PREFIX + name


class PresetForm(forms.Form):
    preset_name = forms.CharField(label="Preset name", max_length=100)


class ImportForm(forms.Form):
    file = forms.FileField(label="Graph JSON file")

    def clean_file(self) -> dict[str, Any]:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError("The file is larger than 2 MB.")
        try:
            document = json.loads(upload.read().decode("utf-8"))
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"The file is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
            ) from None
        if not isinstance(document, dict):
            raise forms.ValidationError("The file must hold one JSON object (an exported graph).")
        return document


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=100, required=False)
    timezone = forms.ChoiceField(label="Time zone")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [(name, name) for name in sorted(timezone_names())]


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100)
    permissions = forms.MultipleChoiceField(
        choices=APIKey.Permission.choices, widget=forms.CheckboxSelectMultiple
    )


class TopUpForm(forms.Form):
    amount = forms.IntegerField(label="Credits", min_value=1, initial=500)
