"""Names and paths from outside never read or write outside the store: upload names with
`..`, encoded dots, absolute paths, drive letters and backslashes (alone and inside a zip),
path parameters that climb out, and a mapping name that looks like a path."""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image

from discovery.services import jobs
from tests.security import hostile_files as hf
from tests.security.security_support import SecuredCatalog, job_rejects

UNSAFE = ["../../evil-1.jpg", "..\\..\\evil-2.jpg", "/tmp/evil-3.jpg", "C:\\Windows\\evil-4.jpg",
          "\\\\server\\share\\evil-5.jpg", "photos/../../../evil-6.jpg"]  # fmt: skip
# The multipart parser itself keeps only the last part of a Windows path (what old browsers
# sent), so as an upload's own name these arrive plain; inside a zip intake refuses them.
WINDOWS = {"C:\\Windows\\evil-4.jpg": "evil-4.jpg", "\\\\server\\share\\evil-5.jpg": "evil-5.jpg"}
LITERAL = ["%2e%2e%2fevil-7.jpg", "..%2f..%2fevil-8.jpg", "%2e%2e%5cevil-9.jpg", "....//evil-10.jpg"]
PASSWD_LINE = "root:x:0:0"


def _jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48, 32), (seed * 17 % 255, 120, 255 - seed * 13 % 255)).save(out, "JPEG")
    return out.getvalue()


def _tree(root: Path) -> set[str]:
    return {os.path.join(d, f) for d, _dirs, files in os.walk(root) for f in files}


def test_traversal_names_are_refused_or_kept_as_plain_names_and_nothing_lands_outside_the_store(
    secured: SecuredCatalog,
) -> None:
    data_dir = secured.settings.data_dir
    outside = data_dir.parent.parent  # the session's temporary root, holding other tests' files too
    before = _tree(outside)
    names = UNSAFE + LITERAL
    files = [("files", (name, _jpeg(i), "image/jpeg")) for i, name in enumerate(names)]
    bundle = hf.zip_of({n: _jpeg(50 + i) for i, n in enumerate(names)})
    files.append(("files", ("bundle.zip", bundle, "application/zip")))
    response = secured.client.post("/api/ingest/assets", files=files, headers=secured.as_role("editor"))
    assert response.status_code == 202, response.text
    ctx = secured.client.app.state.ctx  # type: ignore[attr-defined]
    job = jobs.wait_for_job(ctx, str(response.json()["id"]), timeout=120)
    reasons = job_rejects(job)
    for name in UNSAFE:
        assert "unsafe file name" in reasons.get(f"bundle.zip!{name}", ""), (name, reasons)
        if name not in WINDOWS:
            assert "unsafe file name" in reasons.get(name, ""), (name, reasons)
    stored = {a.filename for batch in ctx.records.iter_assets() for a in batch}
    for name in stored:
        assert "/" not in name and "\\" not in name and name not in ("..", "."), name
    assert set(WINDOWS.values()) <= stored
    assert {"%2e%2e%2fevil-7.jpg", "..%2f..%2fevil-8.jpg"} <= stored, "encoded dots stay literal, never decoded"
    created = _tree(outside) - before
    assert all(path.startswith(str(data_dir)) for path in created), sorted(created - {str(data_dir)})[:5]
    assert not [p for p in created if "evil" in p], "an upload's name became a path"
    for absolute in ("/tmp/evil-3.jpg", "/evil-1.jpg", "/evil-6.jpg"):
        assert not Path(absolute).exists()


def test_path_parameters_that_climb_out_read_nothing(secured: SecuredCatalog) -> None:
    asset_id = secured.hostile.asset_ids["hostile-exif.jpg"]
    client = secured.client
    for path in [
        "/api/assets/..%2F..%2F..%2F..%2Fetc%2Fpasswd/file",
        "/api/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        f"/api/assets/{asset_id}/renditions/..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        f"/api/assets/{asset_id}/renditions/%2e%2e%5c%2e%2e%5cetc%5cpasswd",
        "/api/products/..%2F..%2Fetc%2Fpasswd",
        "/api/channels/..%2F..%2F..%2Fetc%2Fpasswd/feed",
        "/api/channels/web/products/..%2F..%2Fetc%2Fpasswd",
        "/api/jobs/..%2F..%2Fetc%2Fpasswd/rejects.csv",
        "/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2F..%2F..%2Fetc%2Fpasswd",
    ]:
        response = client.get(path)
        assert response.status_code in (400, 404, 422), (path, response.status_code)
        assert PASSWD_LINE not in response.text, path


def test_a_mapping_name_that_looks_like_a_path_is_never_opened(secured: SecuredCatalog) -> None:
    csv = b"sku,name\nMAP-1,Mapped\n"
    ctx = secured.client.app.state.ctx  # type: ignore[attr-defined]
    for mapping in ("../../../../etc/passwd", "..%2f..%2fetc%2fpasswd", "/etc/passwd", "..\\..\\x"):
        response = secured.client.post(
            "/api/ingest/products",
            files={"file": ("p.csv", csv, "text/csv")},
            data={"mapping": mapping},
            headers=secured.as_role("editor"),
        )
        if response.status_code != 202:  # refused at once: fine, as long as it says why
            assert response.status_code in (400, 404, 422) and response.json()["detail"]
            continue
        job = jobs.wait_for_job(ctx, str(response.json()["id"]), timeout=60)
        assert job["state"] == "failed", job
        assert PASSWD_LINE not in str(job)
        assert "mapping" in str(job).lower()
