from .helpers import make_schedule, utc


def test_site_admins_see_schedules_in_the_django_admin_without_the_token_hash(personas, client):
    schedule = make_schedule(personas.team, {"start": utc(2026, 3, 2, 9), "participants": [personas.admin]})
    personas.site_admin.is_staff = True
    personas.site_admin.save(update_fields=["is_staff"])
    client.force_login(personas.site_admin)
    for url in ["/admin/oncall/schedule/", f"/admin/oncall/schedule/{schedule.pk}/change/", "/admin/oncall/override/",
                f"/admin/oncall/layer/{schedule.layers.get().pk}/change/"]:
        r = client.get(url)
        assert r.status_code == 200, url
        assert schedule.calendar_token_hash not in r.content.decode()
