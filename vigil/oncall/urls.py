from django.urls import path

from . import views

urlpatterns = [
    path("calendars/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
    path("schedules/", views.schedule_list, name="schedule-list"),
    path("schedules/new/", views.schedule_new, name="schedule-new"),
    path("schedules/<int:pk>/", views.schedule_detail, name="schedule-detail"),
    path("schedules/<int:pk>/edit/", views.schedule_edit, name="schedule-edit"),
    path("schedules/<int:pk>/delete/", views.schedule_delete, name="schedule-delete"),
    path("schedules/<int:pk>/calendar/", views.schedule_calendar_rotate, name="schedule-calendar"),
    path("schedules/<int:pk>/overrides/", views.override_new, name="schedule-override-new"),
    path("schedules/<int:pk>/overrides/<int:override_id>/delete/", views.override_delete, name="schedule-override-delete"),
    path("schedules/<int:pk>/take/", views.shift_take, name="schedule-take"),
    path("schedules/<int:pk>/cover/", views.shift_cover, name="schedule-cover"),
    path("account/calendar/", views.my_calendar, name="my-calendar"),
]
