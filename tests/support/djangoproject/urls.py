from django.urls import path

from mailfate.django.tracking import TrackingView

urlpatterns = [path("mailfate/tracking/", TrackingView.as_view())]
