"""Credit packages (API.md §12): the public catalogue, its filters and the seeded amounts."""

import pytest

from tests.support import queries_for
from users.models import CreditPackage
from users.purchases import SEEDED_AMOUNTS, credit_packages_seed

KEYS = ["id", "creditAmount", "revenuecatProductId", "storeIdentifier", "storeType"]


def make(
    amount: int, store: str = "apple", active: bool = True, product: str = ""
) -> CreditPackage:
    product = product or f"test.{store}.{amount}.{'on' if active else 'off'}"
    return CreditPackage.objects.create(
        credit_amount=amount,
        revenuecat_product_id=product,
        store_identifier=f"sku-{product}",
        store_type=store,
        is_active=active,
    )


@pytest.fixture
def catalogue(db):
    CreditPackage.objects.all().delete()  # the data migration's rows: each test owns its own
    return {
        "apple": make(100, "apple"),
        "google": make(10, "google"),
        "web": make(500, "web"),
        "retired": make(250, "apple", active=False),
    }


def test_list_is_public_smallest_first_with_exactly_the_original_keys(api_client, catalogue):
    response = api_client.get("/api/v1/credit-packages")
    assert response.status_code == 200
    data = response.json()["data"]
    assert [item["creditAmount"] for item in data] == [10, 100, 500]  # retired one hidden
    google = catalogue["google"]
    assert list(data[0]) == KEYS
    assert data[0] == {
        "id": google.pk,
        "creditAmount": 10,
        "revenuecatProductId": google.revenuecat_product_id,
        "storeIdentifier": google.store_identifier,
        "storeType": "google",
    }


@pytest.mark.parametrize(
    ("query", "amounts"),
    [
        ("storeType=apple", [100]),
        ("storeType=apple&activeOnly=false", [100, 250]),
        ("activeOnly=false", [10, 100, 250, 500]),
        ("activeOnly=true&storeType=test", []),
        ("storeType=web", [500]),
    ],
)
def test_filters(api_client, catalogue, query, amounts):
    response = api_client.get(f"/api/v1/credit-packages?{query}")
    assert response.status_code == 200
    assert [item["creditAmount"] for item in response.json()["data"]] == amounts


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("storeType=amazon", "storeType"),
        ("activeOnly=yes", "activeOnly"),
        ("activeOnly=1", "activeOnly"),
    ],
)
def test_bad_filter_values_are_a_400_naming_the_parameter(api_client, catalogue, query, parameter):
    response = api_client.get(f"/api/v1/credit-packages?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0] == "Validation failed"
    assert body["errors"][1].startswith(f"{parameter}:")


def test_detail_shows_any_package_even_retired(api_client, catalogue):
    retired = catalogue["retired"]
    response = api_client.get(f"/api/v1/credit-packages/{retired.pk}")
    assert response.status_code == 200
    assert response.json()["data"] == {
        "id": retired.pk,
        "creditAmount": 250,
        "revenuecatProductId": retired.revenuecat_product_id,
        "storeIdentifier": retired.store_identifier,
        "storeType": "apple",
    }


def test_detail_malformed_id_400_unknown_404(api_client, catalogue):
    assert api_client.get("/api/v1/credit-packages/nope").status_code == 400
    response = api_client.get("/api/v1/credit-packages/64d15f9e2e6c8f4d5a123456")
    assert response.status_code == 404
    assert response.json()["errors"][0] == "Resource not found"


def test_list_costs_the_same_queries_at_two_sizes(api_client, catalogue, django_assert_num_queries):
    small = queries_for(api_client, "/api/v1/credit-packages")
    for amount in range(1000, 1030):
        make(amount, "google")
    with django_assert_num_queries(small):
        response = api_client.get("/api/v1/credit-packages")
    assert len(response.json()["data"]) == 33


def test_seed_creates_the_original_amounts_once_per_store(db):
    CreditPackage.objects.all().delete()
    assert credit_packages_seed() == 2 * len(SEEDED_AMOUNTS)
    assert credit_packages_seed() == 0  # rerunning changes nothing
    for store in ("apple", "google"):
        amounts = CreditPackage.objects.filter(store_type=store).values_list(
            "credit_amount", flat=True
        )
        assert sorted(amounts) == [10, 100, 250, 500, 1000, 10000]
