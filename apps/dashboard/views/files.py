"""Uploaded files: upload (with progress, from static/js/site.js), the list with each file's
reference for the Read File block and its expiry, and delete."""

import uuid

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.common.exceptions import PlatformError
from apps.dashboard.views.common import not_found_as_404
from apps.integrations import selectors as integration_selectors
from apps.integrations import services as integration_services
from apps.users.requests import AuthenticatedHttpRequest

FILES_SHOWN = 200


class UploadForm(forms.Form):
    file = forms.FileField()


def _from_script(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


@login_required
def file_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            row = integration_services.file_upload(
                user=request.user, upload=form.cleaned_data["file"]
            )
        except PlatformError as exc:
            form.add_error("file", exc.message)
        else:
            messages.success(request, f"Uploaded “{row.name}”: use file:{row.pk}.")
            if _from_script(request):
                return JsonResponse({"reference": f"file:{row.pk}"}, status=201)
            return redirect("dashboard:files")
    if form.errors and _from_script(request):
        # The page's script shows the message under the form without reloading.
        return JsonResponse(
            {"error": " ".join(map(str, form.errors.get("file", ["Choose a file."])))}, status=400
        )
    files = integration_selectors.file_list(user=request.user).order_by("-created_at")
    return render(
        request,
        "dashboard/files.html",
        {
            "files": files[:FILES_SHOWN],
            "form": form,
            "max_bytes": settings.FILE_UPLOAD_MAX_BYTES,
            "allowed_types": settings.FILE_UPLOAD_ALLOWED_TYPES,
            "nav_section": "files",
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
@not_found_as_404
def file_delete(request: AuthenticatedHttpRequest, file_id: uuid.UUID) -> HttpResponse:
    row = integration_selectors.file_get(user_id=request.user.pk, file_id=file_id)
    integration_services.file_delete(user=request.user, file_id=row.pk)
    messages.success(request, f"Deleted “{row.name}”.")
    return redirect("dashboard:files")
