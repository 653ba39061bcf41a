from __future__ import annotations

import pytest

from tests.factories import Person, person


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    """Export files go to a per-test folder, never the developer's .data/exports."""
    settings.MEMPORTAL = {**settings.MEMPORTAL, "EXPORT_DIR": str(tmp_path / "exports")}
    return tmp_path / "exports"


@pytest.fixture
def sports_staff(db) -> Person:
    return person("sports_staff", "sports_brand_portal", role="staff")


@pytest.fixture
def admin_person(db) -> Person:
    return person("root", "concierge_app", superuser=True)
