"""Inputs found by fuzzing the OpenAPI document (schemathesis): 4xx answers, never a 500."""

import pytest

PROBLEM = "application/problem+json"


@pytest.mark.parametrize("path", ["/api/v1/studies/456434137725426335744",
                                  "/api/v1/finance/cases/99999999999999999999",
                                  "/api/v1/consultations/123456789012345678901"])
def test_ids_beyond_64_bits_are_not_found(client, auth_headers, path):
    response = client.get(path, headers=auth_headers("admin"))
    assert response.status_code == 404
    assert response.mimetype == PROBLEM


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/screenings", {"corridor": "bajio", "resolution_km": 2, "technology": {}}),
        ("/api/v1/sites/check", {"geometry": {}, "technology": {}}),
        ("/api/v1/studies", {"request": {}, "technology": {}}),
        ("/api/v1/studies", {"request": {}, "technology": ["pv"]}),
    ],
)
def test_a_technology_of_the_wrong_type_is_named(client, auth_headers, path, body):
    response = client.post(path, json=body, headers=auth_headers("admin"))
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert response.json["field"] == "technology"
