from django.urls import path

from . import views

urlpatterns = [
    path("threads/<str:thread_id>", views.state),
    path("threads/<str:thread_id>/advance", views.advance),
    path("threads/<str:thread_id>/history", views.history),
]
