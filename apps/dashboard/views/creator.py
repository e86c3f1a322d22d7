"""The user's creator profile in the store: username, name, description, links and avatar."""

import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.validators import URLValidator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render

from apps.common.exceptions import PlatformError
from apps.store import avatars
from apps.store import services as store_services
from apps.store.models import MAX_PROFILE_LINKS, USERNAME_PATTERN, Profile
from apps.users.requests import AuthenticatedHttpRequest


class CreatorProfileForm(forms.Form):
    username = forms.RegexField(
        re.compile(USERNAME_PATTERN, re.IGNORECASE),
        min_length=3,
        max_length=40,
        help_text="Your page's address in the store: a-z, 0-9, single - or _.",
        error_messages={"invalid": "Only a-z, 0-9 and single - or _ between them."},
    )
    name = forms.CharField(max_length=100, required=False)
    description = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    links = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"Up to {MAX_PROFILE_LINKS} web addresses, one a line.",
    )
    avatar = forms.ImageField(
        required=False, help_text="PNG, JPEG, GIF or WebP up to 2 MB; shown as a 256 px square."
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].lower()

    def clean_links(self) -> list[str]:
        links = [line.strip() for line in self.cleaned_data["links"].splitlines() if line.strip()]
        if len(links) > MAX_PROFILE_LINKS:
            raise forms.ValidationError(f"At most {MAX_PROFILE_LINKS} links.")
        check = URLValidator(schemes=["http", "https"])
        for link in links:
            try:
                check(link)
            except forms.ValidationError:
                raise forms.ValidationError(f"{link} is not a web address.") from None
        return links


def _initial(profile: Profile | None) -> dict:
    if profile is None:
        return {}
    return {
        "username": profile.username,
        "name": profile.name,
        "description": profile.description,
        "links": "\n".join(profile.links),
    }


@login_required
def creator_profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    profile = Profile.objects.filter(user=request.user).select_related("avatar").first()
    form = CreatorProfileForm(
        request.POST or None, request.FILES or None, initial=_initial(profile)
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        avatar = data.pop("avatar")
        try:
            # One change: a refused avatar leaves the text fields as they were.
            with transaction.atomic():
                store_services.profile_update(user=request.user, **data)
                if avatar is not None:
                    avatar.seek(0)
                    avatars.profile_avatar_set(user=request.user, upload=avatar)
        except PlatformError as exc:
            fields = exc.details.get("fields") if isinstance(exc.details, dict) else None
            field = next(iter(fields), None) if isinstance(fields, dict) else None
            form.add_error(field if field in form.fields else None, exc.message)
        else:
            messages.success(request, "Creator profile saved.")
            return redirect("dashboard:creator-profile")
    return render(
        request,
        "dashboard/creator_profile.html",
        {"form": form, "profile": profile, "nav_section": "store"},
        status=400 if form.errors else 200,
    )
