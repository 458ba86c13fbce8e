"""POST /api/v1/metrics and the rules API."""

from vigil.anomaly.models import Rule, Sample, Series


def test_it_takes_one_sample_or_a_list(personas, api):
    client = api(personas.responder)
    one = client.post("/api/v1/metrics", {"name": "orders_per_minute", "value": 42, "at": "2026-06-15T12:00:00+02:00",
                                          "labels": {"service": "acme-shop", "region": "eu"}})
    assert one.status_code == 202 and one.json() == {"accepted": 1}
    many = client.post("/api/v1/metrics", [{"name": "orders_per_minute", "value": v,
                                            "labels": {"service": "acme-shop", "region": "eu"}} for v in (40, 44)])
    assert many.status_code == 202 and many.json() == {"accepted": 2}
    series = Series.objects.get()
    assert series.service == personas.service and series.labels == {"service": "acme-shop", "region": "eu"}
    assert Sample.objects.filter(series=series).count() == 3
    assert Sample.objects.order_by("at").first().at.isoformat() == "2026-06-15T10:00:00+00:00"
    listed = client.get("/api/v1/metrics").json()
    assert listed["count"] == 1 and listed["items"][0]["last_value"] == 44


def test_with_one_team_no_service_is_needed(personas, api):
    assert api(personas.responder).post("/api/v1/metrics", {"name": "x", "value": 1}).status_code == 202
    assert Series.objects.get().team == personas.team


def test_bad_samples_are_refused_whole_naming_the_field(personas, api):
    client = api(personas.responder)
    cases = [
        ([{"name": "ok", "value": 1}, {"name": "bad", "value": "many"}], "1.value"),
        ({"name": "has space", "value": 1}, "name"),
        ({"name": "x", "value": 1, "at": "yesterday"}, "at"),
        ({"name": "x", "value": 1, "labels": {"service": "globex-api"}}, "service_id"),
        ({"name": "x", "value": 1, "extra": True}, "extra"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/metrics", body)
        assert response.status_code == 422, (body, response.content)
        assert field in [d["field"] for d in response.json()["detail"]], (body, response.json())
    assert client.post("/api/v1/metrics", data="{nope").status_code == 422
    assert client.post("/api/v1/metrics", {"name": "x", "value": float("inf")}).status_code in (400, 422)
    assert not Sample.objects.exists()


def test_it_needs_a_token_and_a_writer(personas, api):
    assert api().post("/api/v1/metrics", {"name": "x", "value": 1}).status_code == 401
    response = api(personas.viewer).post("/api/v1/metrics", {"name": "x", "value": 1, "labels": {"service": "acme-shop"}})
    assert response.status_code == 403
    assert not Sample.objects.exists()


def test_rules_are_made_and_changed_through_the_api(personas, api):
    client = api(personas.responder)
    client.post("/api/v1/metrics", {"name": "latency_ms", "value": 120, "labels": {"service": "acme-shop"}})
    series = Series.objects.get()
    made = client.post("/api/v1/metric-rules", {"service_id": personas.service.pk, "series_id": series.pk,
                                                "name": "Slow", "kind": "threshold", "threshold": 500})
    assert made.status_code == 201, made.content
    assert made.json()["state"] == "learning"
    assert client.post("/api/v1/metric-rules", {"service_id": personas.service.pk, "series_id": series.pk,
                                                "name": "No threshold", "kind": "threshold"}).status_code == 422
    path = f"/api/v1/metric-rules/{made.json()['id']}"
    assert client.patch(path, {"threshold": 800, "enabled": False}).json()["threshold"] == 800
    assert made.json()["time_zone"] == "UTC"
    assert client.patch(path, {"time_zone": "Europe/Paris"}).json()["time_zone"] == "Europe/Paris"
    r = client.patch(path, {"time_zone": "Mars/Olympus"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "time_zone"
    assert Rule.objects.get().time_zone == "Europe/Paris"
    assert api(personas.outsider).get(path).status_code == 404
    assert api(personas.outsider).post("/api/v1/metric-rules", {
        "service_id": personas.service.pk, "series_id": series.pk, "name": "x"}).status_code == 422
    assert client.delete(path).status_code == 204 and not Rule.objects.exists()
