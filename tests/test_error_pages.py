"""Branded 403/404/500 pages for people; JSON errors on the API's paths."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from memportal import errors

pytestmark = pytest.mark.django_db


def test_a_404_is_the_sites_page(client, owner):
    client.force_login(owner.user)
    response = client.get("/you/memories/nope/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "There is nothing here" in body and 'class="site-header"' in body


def test_a_403_says_why(client, owner):
    client.force_login(owner.user)
    response = client.get("/staff/")
    assert response.status_code == 403 and "Staff only." in response.content.decode()


def test_a_500_is_branded_for_people_and_json_for_the_api():
    page = errors.server_error(RequestFactory().get("/you/"))
    assert page.status_code == 500 and "Something went wrong on our side" in page.content.decode()
    api = errors.server_error(RequestFactory().get("/v1/memories/"))
    assert api.status_code == 500 and api["Content-Type"] == "application/json"
    assert json.loads(api.content)["detail"] == "Internal server error."


def test_api_paths_keep_json_404_and_403():
    from django.core.exceptions import PermissionDenied

    assert errors.page_not_found(RequestFactory().get("/api/v1/nothing"))["Content-Type"] == "application/json"
    denied = errors.permission_denied(RequestFactory().get("/v3/memories/"), PermissionDenied("No."))
    assert denied.status_code == 403 and json.loads(denied.content)["detail"] == "No."
