import re

import pytest
import time_machine

from vigil.accounts.models import hash_token
from vigil.oncall.models import Override, Schedule, UserCalendar
from vigil.oncall.shifts import oncall_users

from .helpers import make_schedule, utc

NOW = utc(2026, 3, 20, 12)  # a Friday; London changes clocks on Sunday the 29th


@pytest.fixture
def schedule(personas):
    return make_schedule(personas.team, {"start": utc(2026, 3, 2, 9), "rotation": "weekly",
                                         "participants": [personas.admin, personas.responder]})


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def page(client, user, url):
    client.force_login(user)
    r = client.get(url)
    assert r.status_code == 200
    return r.content.decode()


def test_the_list_shows_who_is_on_call_on_each_schedule(personas, client, schedule, frozen):
    html = page(client, personas.viewer, "/schedules/")
    assert "Primary on-call" in html and "On call: Ada Admin" in html
    assert "New schedule" not in html
    assert "New schedule" in page(client, personas.admin, "/schedules/")


def test_the_nav_links_to_schedules(personas, client):
    assert 'href="/schedules/"' in page(client, personas.viewer, "/")


def test_the_schedule_page_shows_now_a_timeline_and_the_layers(personas, client, schedule, frozen):
    html = page(client, personas.viewer, f"/schedules/{schedule.pk}/")
    now = re.search(r'id="on-call-now">(.*?)</div>', html, re.S).group(1)
    assert "Ada Admin" in now and "until Mon 23 Mar 09:00" in now
    assert html.count('<div class="day">') == 14
    assert "Sun 29 Mar <span class=\"muted\">(23 h: clocks change)</span>" in html
    assert re.search(r'class="seg w-100 who-1"', html)  # a whole day of the responder (from the 23rd)
    assert "Take this shift" not in html and "Add override" not in html  # a viewer only looks
    assert "oncall/oncall.css" in html and "style=" not in html


def test_the_timeline_length_is_bounded(personas, client, schedule, frozen):
    assert page(client, personas.viewer, f"/schedules/{schedule.pk}/?days=28").count('<div class="day">') == 28
    assert page(client, personas.viewer, f"/schedules/{schedule.pk}/?days=999").count('<div class="day">') == 28
    assert page(client, personas.viewer, f"/schedules/{schedule.pk}/?days=x").count('<div class="day">') == 14


def test_another_teams_schedule_is_not_found(personas, client, schedule):
    client.force_login(personas.outsider)
    assert client.get(f"/schedules/{schedule.pk}/").status_code == 404
    assert client.post(f"/schedules/{schedule.pk}/overrides/", {}).status_code == 404


def test_a_responder_adds_an_override_in_the_schedules_zone(personas, client, schedule, frozen):
    client.force_login(personas.responder)
    r = client.post(f"/schedules/{schedule.pk}/overrides/", {
        "user": personas.responder.pk, "start": "2026-03-30T10:00", "end": "2026-03-30T14:00"})
    assert r.status_code == 302
    override = Override.objects.get()
    # 10:00 in London on 30 March is 09:00 UTC (summer time).
    assert (override.user, override.start, override.end, override.created_by) == (
        personas.responder, utc(2026, 3, 30, 9), utc(2026, 3, 30, 13), personas.responder)


def test_a_bad_override_shows_the_form_again_and_adds_nothing(personas, client, schedule, frozen):
    client.force_login(personas.responder)
    r = client.post(f"/schedules/{schedule.pk}/overrides/", {
        "user": personas.outsider.pk, "start": "2026-03-30T10:00", "end": "2026-03-30T09:00"})
    assert r.status_code == 422
    assert "Must be after the start." in r.content.decode() and not Override.objects.exists()


def test_a_viewer_cannot_add_an_override(personas, client, schedule, frozen):
    client.force_login(personas.viewer)
    r = client.post(f"/schedules/{schedule.pk}/overrides/", {
        "user": personas.viewer.pk, "start": "2026-03-30T10:00", "end": "2026-03-30T14:00"})
    assert r.status_code == 403 and not Override.objects.exists()


def test_taking_someone_elses_shift_covers_them_from_now(personas, client, schedule, frozen):
    html = page(client, personas.responder, f"/schedules/{schedule.pk}/")
    assert "Take this shift" in html
    r = client.post(f"/schedules/{schedule.pk}/take/", {
        "start": "2026-03-16T09:00:00+00:00", "end": "2026-03-23T09:00:00+00:00", "user": personas.admin.pk})
    assert r.status_code == 302
    override = Override.objects.get()
    assert (override.user, override.covers, override.start, override.end) == (
        personas.responder, personas.admin, NOW, utc(2026, 3, 23, 9))
    assert oncall_users(schedule, NOW) == [personas.responder]


def test_a_shift_that_is_over_cannot_be_taken(personas, client, schedule, frozen):
    client.force_login(personas.admin)
    client.post(f"/schedules/{schedule.pk}/take/", {
        "start": "2026-03-02T09:00:00+00:00", "end": "2026-03-09T09:00:00+00:00", "user": personas.admin.pk})
    assert not Override.objects.exists()


def test_cover_for_me_asks_someone_to_take_my_shift(personas, client, schedule, frozen):
    html = page(client, personas.responder, f"/schedules/{schedule.pk}/")
    assert "Cover for me" in html
    r = client.post(f"/schedules/{schedule.pk}/cover/", {
        "start": "2026-03-23T09:00:00+00:00", "end": "2026-03-30T08:00:00+00:00", "user": personas.admin.pk})
    assert r.status_code == 302
    override = Override.objects.get()
    assert (override.user, override.covers, override.created_by) == (personas.admin, personas.responder, personas.responder)
    assert oncall_users(schedule, utc(2026, 3, 25)) == [personas.admin]


def test_cover_for_me_needs_someone_else(personas, client, schedule, frozen):
    client.force_login(personas.responder)
    client.post(f"/schedules/{schedule.pk}/cover/", {
        "start": "2026-03-30T08:00:00+00:00", "end": "2026-04-06T08:00:00+00:00", "user": personas.responder.pk})
    client.post(f"/schedules/{schedule.pk}/cover/", {"start": "2026-03-30T08:00:00+00:00", "end": "2026-04-06T08:00:00+00:00"})
    assert not Override.objects.exists()


def test_a_responder_removes_an_override(personas, client, schedule):
    override = Override.objects.create(schedule=schedule, user=personas.responder, start=utc(2030, 1, 1), end=utc(2030, 1, 2))
    client.force_login(personas.responder)
    assert client.post(f"/schedules/{schedule.pk}/overrides/{override.pk}/delete/").status_code == 302
    assert not Override.objects.exists()


def layer_post(personas, **extra):
    data = {
        "name": "Primary", "time_zone": "America/New_York", "description": "",
        "layers-TOTAL_FORMS": "1", "layers-INITIAL_FORMS": "0", "layers-MIN_NUM_FORMS": "0", "layers-MAX_NUM_FORMS": "20",
        "layers-0-name": "Weekdays", "layers-0-start": "2026-03-02T09:00", "layers-0-rotation": "days", "layers-0-every": "2",
        "layers-0-handoff_time": "09:00", "layers-0-participants": "responder@ops.test\nAda Admin\n",
        "layers-0-restrict_days": ["0", "1", "2", "3", "4"], "layers-0-restrict_start": "09:00", "layers-0-restrict_end": "17:00",
    }
    data.update(extra)
    if data["layers-TOTAL_FORMS"] == "2":  # the empty form for a new layer, as a browser sends it
        data.update({"layers-1-name": "", "layers-1-start": "", "layers-1-rotation": "weekly", "layers-1-every": "1",
                     "layers-1-handoff_time": "09:00", "layers-1-participants": ""})
    return data


def test_an_admin_creates_a_schedule_with_a_layer_and_sees_the_feed_url_once(personas, client):
    client.force_login(personas.admin)
    r = client.post("/schedules/new/", {"team": personas.team.pk, **layer_post(personas)})
    assert r.status_code == 200, r.content.decode()[:3000]
    html = r.content.decode()
    url = re.search(r'<code id="ical-url" class="token">([^<]+)</code>', html).group(1)
    assert "no-store" in r["Cache-Control"]
    schedule = Schedule.objects.get()
    assert schedule.calendar_token_hash == hash_token(url.rsplit("/", 1)[1].removesuffix(".ics"))
    (layer,) = schedule.layers.all()
    assert (layer.rotation, layer.start, layer.restrict_days) == ("days:2", utc(2026, 3, 2, 14), [0, 1, 2, 3, 4])
    assert layer.participant_users() == [personas.responder, personas.admin]
    assert url not in page(client, personas.admin, f"/schedules/{schedule.pk}/")


def test_the_form_names_people_who_cannot_be_on_call(personas, client):
    client.force_login(personas.admin)
    r = client.post("/schedules/new/", {"team": personas.team.pk,
                                        **layer_post(personas, **{"layers-0-participants": "viewer@ops.test\nnobody"})})
    assert r.status_code == 200 and not Schedule.objects.exists()
    assert "Not an admin or responder of the team: viewer@ops.test, nobody." in r.content.decode()


def test_a_start_in_the_spring_gap_is_refused(personas, client):
    client.force_login(personas.admin)
    r = client.post("/schedules/new/", {"team": personas.team.pk,
                                        **layer_post(personas, **{"layers-0-start": "2026-03-08T02:30"})})
    assert r.status_code == 200 and not Schedule.objects.exists()
    assert "America/New_York" in r.content.decode()


def test_only_team_admins_create_and_edit_schedules(personas, client, schedule):
    client.force_login(personas.responder)
    assert client.get("/schedules/new/").status_code == 404
    assert client.get(f"/schedules/{schedule.pk}/edit/").status_code == 403
    assert client.post(f"/schedules/{schedule.pk}/delete/").status_code == 403
    assert client.post(f"/schedules/{schedule.pk}/calendar/").status_code == 403


def test_an_admin_edits_the_layers(personas, client, schedule):
    html = page(client, personas.admin, f"/schedules/{schedule.pk}/edit/")
    assert 'value="2026-03-02T09:00"' in html and "admin@ops.test\nresponder@ops.test" in html
    data = layer_post(personas, name="Renamed", time_zone="Europe/London", **{
        "layers-TOTAL_FORMS": "2", "layers-INITIAL_FORMS": "1", "layers-0-rotation": "hours", "layers-0-every": "12",
        "layers-0-restrict_days": [], "layers-0-restrict_start": "", "layers-0-restrict_end": "",
        "layers-0-participants": "responder@ops.test"})
    r = client.post(f"/schedules/{schedule.pk}/edit/", data)
    assert r.status_code == 302, r.content.decode()[:3000]
    schedule.refresh_from_db()
    (layer,) = schedule.layers.all()
    assert (schedule.name, layer.rotation, layer.start) == ("Renamed", "hours:12", utc(2026, 3, 2, 9))
    assert layer.participant_users() == [personas.responder]


def test_an_admin_removes_a_layer(personas, client, schedule):
    client.force_login(personas.admin)
    data = layer_post(personas, time_zone="Europe/London", **{
        "layers-TOTAL_FORMS": "2", "layers-INITIAL_FORMS": "1", "layers-0-DELETE": "on"})
    assert client.post(f"/schedules/{schedule.pk}/edit/", data).status_code == 302
    assert not schedule.layers.exists()


def test_an_admin_deletes_a_schedule(personas, client, schedule):
    client.force_login(personas.admin)
    assert client.post(f"/schedules/{schedule.pk}/delete/").status_code == 302
    assert not Schedule.objects.exists()


def test_an_admin_rotates_the_schedule_feed(personas, client, schedule):
    client.force_login(personas.admin)
    r = client.post(f"/schedules/{schedule.pk}/calendar/")
    url = re.search(r'<code id="ical-url" class="token">([^<]+)</code>', r.content.decode()).group(1)
    assert client.get(url.removeprefix("http://127.0.0.1:8000")).status_code == 200
    assert client.get(f"/calendars/{schedule.raw_token}.ics").status_code == 404


def test_the_tokens_page_makes_and_switches_off_the_personal_feed(personas, client):
    html = page(client, personas.viewer, "/account/tokens/")
    assert "Make my calendar feed" in html
    r = client.post("/account/calendar/")
    url = re.search(r'<code id="ical-url" class="token">([^<]+)</code>', r.content.decode()).group(1)
    feed = UserCalendar.objects.get(user=personas.viewer)
    assert feed.token_hash == hash_token(url.rsplit("/", 1)[1].removesuffix(".ics"))
    html = page(client, personas.viewer, "/account/tokens/")
    assert feed.hint in html and url not in html and "Switch the feed off" in html
    client.post("/account/calendar/", {"delete": "1"})
    assert not UserCalendar.objects.exists()


def test_dates_near_the_end_of_time_are_refused_in_the_forms(personas, client, schedule, frozen):
    client.force_login(personas.responder)
    r = client.post(f"/schedules/{schedule.pk}/overrides/", {
        "user": personas.responder.pk, "start": "9999-12-31T10:00", "end": "9999-12-31T14:00"})
    assert r.status_code == 422 and "between 1970 and 2200" in r.content.decode()
    client.force_login(personas.admin)
    r = client.post("/schedules/new/", {"team": personas.team.pk, **layer_post(personas, **{"layers-0-start": "0001-01-01T00:00"})})
    assert r.status_code == 200 and "between 1970 and 2200" in r.content.decode()
    assert not Override.objects.exists() and Schedule.objects.count() == 1
