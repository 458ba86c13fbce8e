"""Bad input never gives a 500, and a rejected request changes nothing."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.oncall.models import Override, Schedule

from .helpers import make_schedule, utc

junk = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False), st.text(max_size=30),
    st.sampled_from(["daily", "hours:0", "days:9999", "09:00", "24:00", "2026-03-29T01:30:00+00:00",
                     "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "Europe/London",
                     "Mars/Base", "mon", "", "+01:00"]),
)
layer = st.fixed_dictionaries({}, optional={
    "name": junk, "start": junk, "rotation": junk, "handoff_time": junk,
    "participants": st.one_of(junk, st.lists(st.one_of(junk, st.integers(1, 10)), max_size=3)),
    "restriction": st.one_of(junk, st.fixed_dictionaries({}, optional={"days": st.one_of(junk, st.lists(junk, max_size=3)),
                                                                     "start": junk, "end": junk})),
})
schedule_body = st.fixed_dictionaries({}, optional={
    "name": junk, "time_zone": junk, "team_id": junk, "description": junk,
    "layers": st.one_of(junk, st.lists(st.one_of(junk, layer), max_size=3)),
})
override_body = st.fixed_dictionaries({}, optional={
    "user_id": st.one_of(junk, st.integers(1, 10)), "start": junk, "end": junk, "covers_user_id": junk})
query_value = st.one_of(st.text(max_size=30), st.sampled_from(["2026-03-29T01:30:00 01:00", "9999-12-31T23:59:59Z", "nan"]))

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(payload=schedule_body)
def test_creating_a_schedule_from_junk_never_crashes(personas, api, payload):
    before = Schedule.objects.count()
    r = api(personas.admin).post("/api/v1/schedules", payload)
    assert r.status_code in (201, 403, 409, 422), r.content
    if r.status_code != 201:
        assert Schedule.objects.count() == before


@FUZZ
@given(payload=override_body)
def test_adding_an_override_from_junk_never_crashes(personas, api, payload):
    schedule = Schedule.objects.first() or make_schedule(personas.team, {"start": utc(2026, 3, 2, 9), "participants": [personas.admin]})
    before = Override.objects.count()
    r = api(personas.responder).post(f"/api/v1/schedules/{schedule.pk}/overrides", payload)
    assert r.status_code in (201, 422), r.content
    if r.status_code != 201:
        assert Override.objects.count() == before


@FUZZ
@given(at=query_value, start=query_value, end=query_value)
def test_junk_query_times_never_crash(personas, api, at, start, end):
    schedule = Schedule.objects.first() or make_schedule(personas.team, {"start": utc(2026, 3, 2, 9), "participants": [personas.admin]})
    client = api(personas.viewer)
    assert client.get(f"/api/v1/schedules/{schedule.pk}/oncall", at=at).status_code in (200, 422)
    assert client.get(f"/api/v1/schedules/{schedule.pk}/shifts", start=start, end=end).status_code in (200, 422)
    assert client.get(f"/api/v1/schedules/{schedule.pk}/overrides", start=start, end=end).status_code in (200, 422)
