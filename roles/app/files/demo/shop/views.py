import socket

from django.conf import settings
from django.http import HttpResponse

from .models import Greeting


def index(request):
    greeting = Greeting.objects.order_by("id").first()
    text = greeting.text if greeting else "no greeting yet"
    return HttpResponse(f"{text} (release {settings.RELEASE}, host {socket.gethostname()})\n", content_type="text/plain")


def health(request):
    Greeting.objects.count()  # the database answers
    response = HttpResponse(f"ok release={settings.RELEASE}\n", content_type="text/plain")
    response["Cache-Control"] = "no-store"
    return response
