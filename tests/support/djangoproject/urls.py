from django.urls import include, path

from mailfate.django.tracking import TrackingView

urlpatterns = [
    path("mailfate/tracking/", TrackingView.as_view()),
    path("anymail/", include("anymail.urls")),
]
