def test_site_admins_reach_the_admin_and_others_do_not(personas, client):
    client.force_login(personas.responder)
    assert client.get("/admin/").status_code == 302
    client.force_login(personas.site_admin)
    for path in ["/admin/", "/admin/accounts/user/", "/admin/accounts/auditentry/", "/admin/incidents/incident/",
                 "/admin/catalog/service/", "/admin/accounts/apitoken/", f"/admin/accounts/team/{personas.team.pk}/change/"]:
        assert client.get(path).status_code == 200, path
