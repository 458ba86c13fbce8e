import datetime as dt

import pytest
import time_machine

from vigil.accounts.models import AuditEntry, hash_token
from vigil.oncall.models import Override, Schedule
from vigil.oncall.shifts import schedule_shifts

from .helpers import make_schedule, utc


def body(personas, **extra):
    return {
        "name": "Primary", "time_zone": "Europe/London",
        "layers": [{"name": "Week", "start": "2026-03-02T09:00:00+00:00", "rotation": "weekly",
                    "handoff_time": "09:00", "participants": [personas.admin.pk, personas.responder.pk]}],
        **extra,
    }


def fields(response):
    return {d["field"] for d in response.json()["detail"]}


@pytest.fixture
def schedule(personas):
    return make_schedule(personas.team, {"start": utc(2026, 3, 2, 9), "participants": [personas.admin, personas.responder]})


def test_an_admin_creates_a_schedule_and_gets_its_feed_url_once(personas, api):
    r = api(personas.admin).post("/api/v1/schedules", body(personas))
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["team_id"] == personas.team.pk and data["time_zone"] == "Europe/London"
    assert data["layers"][0]["participants"] == [personas.admin.pk, personas.responder.pk]
    assert data["layers"][0]["rotation"] == "weekly" and data["layers"][0]["handoff_time"] == "09:00"
    assert data["ical_url"].startswith("http://127.0.0.1:8000/calendars/vcal_") and data["ical_url"].endswith(".ics")
    raw = data["ical_url"].rsplit("/", 1)[1].removesuffix(".ics")
    schedule = Schedule.objects.get(pk=data["id"])
    assert schedule.calendar_token_hash == hash_token(raw) and raw not in schedule.calendar_token_hash
    assert len(raw) >= len("vcal_") + 43  # 256 random bits
    again = api(personas.admin).get(f"/api/v1/schedules/{data['id']}").json()
    assert again["ical_url"] is None and again["ical_hint"] == raw[:11]
    assert AuditEntry.objects.filter(action="schedule.create", object_id=str(data["id"])).exists()


def test_it_takes_the_only_team_when_no_team_is_named_and_asks_otherwise(personas, api):
    assert api(personas.admin).post("/api/v1/schedules", body(personas)).status_code == 201
    r = api(personas.site_admin).post("/api/v1/schedules", body(personas, name="Other"))
    assert r.status_code == 422 and fields(r) == {"team_id"}


def test_it_lists_only_the_schedules_of_the_users_teams(personas, api, schedule):
    make_schedule(personas.other_team, name="Theirs")
    r = api(personas.viewer).get("/api/v1/schedules")
    assert r.status_code == 200
    assert [s["name"] for s in r.json()["items"]] == ["Primary on-call"] and r.json()["count"] == 1
    assert api(personas.outsider).get(f"/api/v1/schedules/{schedule.pk}").status_code == 404
    assert api(personas.outsider).get(f"/api/v1/schedules/{schedule.pk}/oncall").status_code == 404
    assert api().get("/api/v1/schedules").status_code == 401


@pytest.mark.parametrize("user", ["responder", "viewer"])
def test_only_admins_create_and_change_schedules(personas, api, schedule, user):
    client = api(getattr(personas, user))
    assert client.post("/api/v1/schedules", body(personas, team_id=personas.team.pk)).status_code == 403
    assert client.patch(f"/api/v1/schedules/{schedule.pk}", {"name": "Mine"}).status_code == 403
    assert client.delete(f"/api/v1/schedules/{schedule.pk}").status_code == 403
    assert Schedule.objects.count() == 1


def test_an_outsider_cannot_create_a_schedule_in_another_team(personas, api):
    r = api(personas.outsider).post("/api/v1/schedules", body(personas, team_id=personas.team.pk))
    assert r.status_code == 422 and fields(r) == {"team_id"}


@pytest.mark.parametrize("change, field", [
    ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
    ({"layers": [{"name": "x", "start": "2026-03-02T09:00:00+00:00", "rotation": "fortnightly", "participants": [1]}]}, "layers.0.rotation"),
    ({"layers": [{"name": "x", "start": "2026-03-02T09:00:00+00:00", "rotation": "hours:0", "participants": [1]}]}, "layers.0.rotation"),
    ({"layers": [{"name": "x", "start": "2026-03-02T09:00:00", "participants": []}]}, "layers.0.participants"),
    ({"layers": [{"name": "x", "start": "2026-03-02T09:00:00", "rotation": "daily", "participants": ["ADMIN"]}]}, "layers.0.start"),
    ({"layers": [{"name": "x", "start": "2026-03-02T09:00:00Z", "rotation": "daily", "participants": ["OUTSIDER"]}]}, "layers.0.participants"),
    ({"layers": [{"name": "x", "start": "2026-03-02T09:00:00Z", "rotation": "daily", "participants": ["VIEWER"]}]}, "layers.0.participants"),
    ({"layers": [{"name": "x", "start": "2026-03-02T09:00:00Z", "handoff_time": "25:00", "participants": ["ADMIN"]}]}, "layers.0.handoff_time"),
    ({"layers": [{"name": "x", "start": "2026-03-02T09:00:00Z", "participants": ["ADMIN"],
                  "restriction": {"days": ["someday"]}}]}, "layers.0.restriction.days"),
    ({"layers": [{"name": "x", "start": "2026-03-02T09:00:00Z", "participants": ["ADMIN"],
                  "restriction": {"start": "09:00"}}]}, "layers.0.restriction"),
    ({"name": ""}, "name"),
    ({"colour": "blue"}, "colour"),
])
def test_it_names_the_bad_field_and_creates_nothing(personas, api, change, field):
    payload = body(personas, **change)
    for layer in payload["layers"]:
        layer["participants"] = [getattr(personas, p.lower()).pk if isinstance(p, str) else p for p in layer["participants"]]
    r = api(personas.admin).post("/api/v1/schedules", payload)
    assert r.status_code == 422, r.content
    assert field in fields(r)
    assert not Schedule.objects.exists()


def test_a_duplicate_name_in_the_team_is_refused(personas, api, schedule):
    r = api(personas.admin).post("/api/v1/schedules", body(personas, name="primary ON-CALL"))
    assert r.status_code == 422 and fields(r) == {"name"}


def test_restrictions_round_trip(personas, api):
    payload = body(personas)
    payload["layers"][0]["restriction"] = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}
    payload["layers"].append({"name": "Nights", "start": "2026-03-02T18:00:00+00:00", "rotation": "days:2",
                              "participants": [personas.responder.pk], "restriction": {"start": "18:00", "end": "08:00"}})
    data = api(personas.admin).post("/api/v1/schedules", payload).json()
    assert data["layers"][0]["restriction"] == {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}
    assert data["layers"][1]["restriction"] == {"days": [], "start": "18:00", "end": "08:00"}
    assert [layer["order"] for layer in data["layers"]] == [0, 1]


def test_patch_renames_and_replaces_the_layers(personas, api, schedule):
    layers = [{"name": "Days", "start": "2026-03-02T09:00:00+00:00", "rotation": "hours:12", "participants": [personas.responder.pk]}]
    r = api(personas.admin).patch(f"/api/v1/schedules/{schedule.pk}", {"name": "Renamed", "layers": layers})
    assert r.status_code == 200, r.content
    assert r.json()["name"] == "Renamed"
    assert [(layer["name"], layer["rotation"], layer["participants"]) for layer in r.json()["layers"]] == [
        ("Days", "hours:12", [personas.responder.pk])]
    assert api(personas.admin).patch(f"/api/v1/schedules/{schedule.pk}", {"time_zone": "Nowhere"}).status_code == 422
    assert api(personas.admin).patch(f"/api/v1/schedules/{schedule.pk}", {"name": None}).status_code == 422


def test_delete_removes_the_schedule_unless_a_policy_pages_it(personas, api, schedule):
    policy = personas.team.escalation_policies.create(
        name="Default", levels=[{"delay_seconds": 300, "targets": [{"type": "schedule", "id": schedule.pk}]}])
    r = api(personas.admin).delete(f"/api/v1/schedules/{schedule.pk}")
    assert r.status_code == 409 and "Default" in r.json()["detail"]
    policy.delete()
    assert api(personas.admin).delete(f"/api/v1/schedules/{schedule.pk}").status_code == 204
    assert not Schedule.objects.exists()


def test_oncall_answers_who_is_on_call_at_an_instant(personas, api, schedule):
    client = api(personas.viewer)
    r = client.get(f"/api/v1/schedules/{schedule.pk}/oncall", at="2026-03-10T12:00:00+00:00")
    assert r.status_code == 200
    assert r.json()["users"] == [{"id": personas.responder.pk, "name": "Rita Responder", "email": "responder@ops.test"}]
    # An unencoded '+' arrives as a space; it is still understood.
    assert client.get(f"/api/v1/schedules/{schedule.pk}/oncall?at=2026-03-03T12:00:00+00:00").json()["users"][0]["id"] == personas.admin.pk
    assert client.get(f"/api/v1/schedules/{schedule.pk}/oncall", at="2026-03-01T12:00:00Z").json()["users"] == []


def test_oncall_defaults_to_now(personas, api, schedule):
    with time_machine.travel(utc(2026, 3, 10, 12), tick=False):
        r = api(personas.viewer).get(f"/api/v1/schedules/{schedule.pk}/oncall")
    assert r.json()["at"].startswith("2026-03-10T12:00:00") and r.json()["users"][0]["id"] == personas.responder.pk


@pytest.mark.parametrize("query, field", [
    ({"at": "yesterday"}, "at"),
    ({"at": "2026-03-10T12:00:00"}, "at"),
])
def test_oncall_names_a_bad_instant(personas, api, schedule, query, field):
    r = api(personas.viewer).get(f"/api/v1/schedules/{schedule.pk}/oncall", **query)
    assert r.status_code == 422 and fields(r) == {field}


def test_shifts_lists_the_final_shifts_of_a_range(personas, api, schedule):
    r = api(personas.viewer).get(f"/api/v1/schedules/{schedule.pk}/shifts",
                                  start="2026-03-01T00:00:00Z", end="2026-03-31T00:00:00+01:00")
    assert r.status_code == 200
    items = r.json()["items"]
    assert [(i["user_id"], i["start"], i["end"]) for i in items[:2]] == [
        (personas.admin.pk, "2026-03-02T09:00:00Z", "2026-03-09T09:00:00Z"),
        (personas.responder.pk, "2026-03-09T09:00:00Z", "2026-03-16T09:00:00Z"),
    ]
    assert items[-1]["end"] == "2026-03-30T23:00:00Z"


@pytest.mark.parametrize("query, field", [
    ({"start": "2026-03-01T00:00:00Z", "end": "2026-07-01T00:00:00Z"}, "end"),
    ({"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "end"),
    ({"start": "2026-03-02"}, "start"),
    ({"start": "2026-03-02T00:00:00Z", "end": "soon"}, "end"),
])
def test_shifts_bounds_the_range(personas, api, schedule, query, field):
    r = api(personas.viewer).get(f"/api/v1/schedules/{schedule.pk}/shifts", **query)
    assert r.status_code == 422 and fields(r) == {field}


def test_a_responder_adds_an_override_that_wins(personas, api, schedule):
    payload = {"user_id": personas.responder.pk, "start": "2026-03-03T12:00:00Z", "end": "2026-03-03T18:00:00Z"}
    r = api(personas.responder).post(f"/api/v1/schedules/{schedule.pk}/overrides", payload)
    assert r.status_code == 201, r.content
    assert r.json()["user_id"] == personas.responder.pk and r.json()["created_by_id"] == personas.responder.pk
    oncall = api(personas.viewer).get(f"/api/v1/schedules/{schedule.pk}/oncall", at="2026-03-03T13:00:00Z").json()
    assert [u["id"] for u in oncall["users"]] == [personas.responder.pk]
    shifts = api(personas.viewer).get(f"/api/v1/schedules/{schedule.pk}/shifts",
                                       start="2026-03-03T00:00:00Z", end="2026-03-04T00:00:00Z").json()["items"]
    assert [(s["user_id"], s["start"][11:16], s["end"][11:16]) for s in shifts] == [
        (personas.admin.pk, "00:00", "12:00"), (personas.responder.pk, "12:00", "18:00"), (personas.admin.pk, "18:00", "00:00")]
    listed = api(personas.viewer).get(f"/api/v1/schedules/{schedule.pk}/overrides", start="2026-03-01T00:00:00Z").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == r.json()["id"]


@pytest.mark.parametrize("change, field", [
    ({"end": "2026-03-03T11:00:00Z"}, "end"),
    ({"start": "2026-03-03T12:00:00"}, "start"),
    ({"user_id": "OUTSIDER"}, "user_id"),
    ({"user_id": "VIEWER"}, "user_id"),
    ({"user_id": 99999}, "user_id"),
    ({"covers_user_id": "OUTSIDER"}, "covers_user_id"),
    ({"end": "2028-03-03T11:00:00Z"}, "end"),
])
def test_a_bad_override_is_refused_naming_the_field(personas, api, schedule, change, field):
    payload = {"user_id": personas.responder.pk, "start": "2026-03-03T12:00:00Z", "end": "2026-03-03T18:00:00Z", **change}
    for key in ("user_id", "covers_user_id"):
        if isinstance(payload.get(key), str):
            payload[key] = getattr(personas, payload[key].lower()).pk
    r = api(personas.responder).post(f"/api/v1/schedules/{schedule.pk}/overrides", payload)
    assert r.status_code == 422 and fields(r) == {field}
    assert not Override.objects.exists()


def test_viewers_and_outsiders_cannot_add_overrides(personas, api, schedule):
    payload = {"user_id": personas.responder.pk, "start": "2026-03-03T12:00:00Z", "end": "2026-03-03T18:00:00Z"}
    assert api(personas.viewer).post(f"/api/v1/schedules/{schedule.pk}/overrides", payload).status_code == 403
    assert api(personas.outsider).post(f"/api/v1/schedules/{schedule.pk}/overrides", payload).status_code == 404
    assert not Override.objects.exists()


def test_a_responder_removes_an_override(personas, api, schedule):
    override = Override.objects.create(schedule=schedule, user=personas.responder, start=utc(2026, 3, 3), end=utc(2026, 3, 4))
    assert api(personas.viewer).delete(f"/api/v1/schedules/{schedule.pk}/overrides/{override.pk}").status_code == 403
    assert api(personas.responder).delete(f"/api/v1/schedules/{schedule.pk}/overrides/{override.pk}").status_code == 204
    assert api(personas.responder).delete(f"/api/v1/schedules/{schedule.pk}/overrides/{override.pk}").status_code == 404
    assert not Override.objects.exists()


def test_rotating_the_feed_gives_a_new_url_and_kills_the_old_one(personas, api, client, schedule):
    old = schedule.raw_token
    assert client.get(f"/calendars/{old}.ics").status_code == 200
    r = api(personas.admin).post(f"/api/v1/schedules/{schedule.pk}/calendar-token")
    assert r.status_code == 200
    new_url = r.json()["ical_url"]
    assert old not in new_url
    assert client.get(f"/calendars/{old}.ics").status_code == 404
    assert client.get(new_url.removeprefix("http://127.0.0.1:8000")).status_code == 200
    assert api(personas.responder).post(f"/api/v1/schedules/{schedule.pk}/calendar-token").status_code == 403


def test_a_user_makes_rotates_and_removes_their_own_feed(personas, api, client):
    me = api(personas.viewer)
    assert me.get("/api/v1/users/me/calendar").status_code == 404
    first = me.post("/api/v1/users/me/calendar").json()["ical_url"]
    assert client.get(first.removeprefix("http://127.0.0.1:8000")).status_code == 200
    second = me.post("/api/v1/users/me/calendar").json()["ical_url"]
    assert client.get(first.removeprefix("http://127.0.0.1:8000")).status_code == 404
    assert me.get("/api/v1/users/me/calendar").json()["ical_url"] is None
    assert me.delete("/api/v1/users/me/calendar").status_code == 204
    assert client.get(second.removeprefix("http://127.0.0.1:8000")).status_code == 404


def test_the_api_shifts_agree_with_schedule_shifts(personas, api, schedule):
    start, end = utc(2026, 3, 1), utc(2026, 3, 1) + dt.timedelta(days=90)
    items = api(personas.viewer).get(f"/api/v1/schedules/{schedule.pk}/shifts", start=start.isoformat(), end=end.isoformat()).json()["items"]
    expected = schedule_shifts(schedule, start, end)
    assert [(i["user_id"], i["start"], i["end"]) for i in items] == [
        (s.user_id, s.start.isoformat().replace("+00:00", "Z"), s.end.isoformat().replace("+00:00", "Z")) for s in expected]


@pytest.mark.parametrize("path, query, field", [
    ("oncall", {"at": "9999-12-31T23:59:59Z"}, "at"),
    ("oncall", {"at": "0001-01-01T00:00:00+01:00"}, "at"),
    ("shifts", {"start": "9999-12-01T00:00:00Z", "end": "9999-12-31T23:59:59Z"}, "start"),
])
def test_instants_near_the_end_of_time_are_refused_not_crashed_on(personas, api, schedule, path, query, field):
    r = api(personas.viewer).get(f"/api/v1/schedules/{schedule.pk}/{path}", **query)
    assert r.status_code == 422 and fields(r) == {field}


def test_a_layer_starting_in_the_year_9999_is_refused(personas, api):
    payload = body(personas)
    payload["layers"][0]["start"] = "9999-12-31T00:00:00Z"
    r = api(personas.admin).post("/api/v1/schedules", payload)
    assert r.status_code == 422 and fields(r) == {"layers.0.start"}
