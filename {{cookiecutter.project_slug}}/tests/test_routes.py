def test_index_is_html(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert b"/static/style.css" in response.data


def test_cache_is_public_for_a_minute(client):
    response = client.get("/cache")
    assert response.status_code == 200
    assert response.headers.getlist("Cache-Control") == ["public, max-age=60"]
    assert response.text == "This data is cacheable\n"


def test_download_is_a_csv_attachment(client):
    response = client.get("/download")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=data.csv"
    assert response.text == "col1,col2\r\nval1,val2\r\n"
    assert response.headers.getlist("Cache-Control") == ["no-store, max-age=0"]


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok\n"


def test_favicon_is_served_so_browsers_log_no_404(client):
    for path in ("/favicon.ico", "/static/favicon.svg"):
        with client.get(path) as response:
            assert response.status_code == 200, path
            assert response.mimetype == "image/svg+xml", path
