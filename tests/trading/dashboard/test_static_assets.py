"""Everything the browser loads is served by the app: the vendored libraries match their recorded versions and
keep their licences, no template names a CDN, Swagger UI comes from drf-spectacular-sidecar, the favicon exists."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
VENDOR = ROOT / "trading" / "static" / "vendor"


def test_vendored_libraries_match_their_versions_file_and_keep_their_licences():
    lines = [line.split() for line in (VENDOR / "VERSIONS").read_text().splitlines() if not line.startswith("#")]

    assert {name for name, *_ in lines} == {"htmx.org", "lightweight-charts"}
    for name, version, sha256, path in lines:
        assert hashlib.sha256((VENDOR / path).read_bytes()).hexdigest() == sha256, name
        assert (VENDOR / path).parent.joinpath("LICENSE").read_text().strip(), name
        assert re.fullmatch(r"\d+\.\d+\.\d+", version)


def test_no_template_loads_anything_from_another_host():
    # Links a person clicks may point anywhere; what the page itself loads may not.
    templates = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")]
    offenders = [
        str(t.relative_to(ROOT))
        for t in templates
        if re.search(r"""<(script|link|img|iframe|source)\b[^>]*(src|href)=["'](https?:)?//""", t.read_text())
    ]
    assert templates and offenders == []


def test_the_api_docs_page_uses_the_bundled_swagger_ui(client, alice):
    client.force_login(alice)

    html = client.get("/api/docs/").content.decode()
    script = client.get("/api/docs/?script=").content.decode()

    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "jsdelivr" not in html and "https://" not in html
    assert "/api/schema/" in script


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301 and response["Location"] == "/static/trading/favicon.svg"
    assert (ROOT / "trading" / "static" / "trading" / "favicon.svg").read_text().startswith("<svg")
