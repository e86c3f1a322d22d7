"""The unsubscribe page: works without signing in, the signed link is the proof. GET asks, POST
(the page's button, or a mail client's one-click `List-Unsubscribe-Post`) unsubscribes."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.notifications import email, services


@csrf_exempt  # no session is involved; the token in the URL authorises the change
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if email.unsubscribe_read(token) is None:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=400)
    if request.method == "GET":
        return render(request, "notifications/unsubscribe.html", {"token": token})
    done = services.notification_unsubscribe(token=token)
    if done is None:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=400)
    user, preference = done
    context = {"done": True, "email": user.email, "everything": preference == email.ALL}
    return render(request, "notifications/unsubscribe.html", context)
