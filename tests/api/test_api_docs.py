"""The interactive API docs work offline: Swagger UI is served by the application itself."""

from __future__ import annotations

import re


def test_the_interactive_docs_load_swagger_ui_from_the_application_not_a_cdn(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {"/api/docs/assets/swagger-ui-bundle.js", "/api/docs/assets/swagger-ui.css"} <= set(assets)
    assert [asset for asset in assets if "//" in asset] == []
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.get_data()) > 1000
