"""Partner rules without a database: normalization, VAT ids, countries, who may set what."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import InvalidInput
from app.domain.partners import rules
from app.domain.partners.rules import PartnerData, PostalAddress

BACK_OFFICE = frozenset({"partners:read", "partners:write"})
SALES = frozenset({"sales:customers:read", "sales:customers:write"})


def _pointers(exc: pytest.ExceptionInfo[InvalidInput]) -> list[str | None]:
    return [e.pointer for e in exc.value.errors]


@pytest.mark.parametrize(
    ("raw", "compact"),
    [
        ("DE136695976", "DE136695976"),
        ("de 136 695 976", "DE136695976"),
        ("DE-136.695.976", "DE136695976"),
        ("ATU13585627", "ATU13585627"),
        ("EL094259216", "EL094259216"),
        ("GR094259216", "EL094259216"),  # VIES says EL for Greece
        ("NL004495445B01", "NL004495445B01"),
        ("FR40303265045", "FR40303265045"),
    ],
)
def test_valid_vat_ids_are_stored_compact(raw: str, compact: str) -> None:
    assert rules.normalize_vat_id(raw) == compact


@pytest.mark.parametrize(
    "raw",
    [
        "DE136695977",  # check digit wrong
        "DE12345678",  # too short
        "XX123456789",  # no such member state
        "GB980780684",  # not an EU VAT number since 2021
        "CHE113640427",  # Swiss, not EU
        "136695976",  # no country prefix
        "",
    ],
)
def test_invalid_vat_ids_are_refused(raw: str) -> None:
    with pytest.raises(rules.InvalidValue, match="not a valid EU VAT id"):
        rules.normalize_vat_id(raw)


@given(st.text(max_size=40))
def test_any_text_is_a_vat_id_in_compact_form_or_refused_cleanly(raw: str) -> None:
    """Never an unexpected exception (a 500), whatever a caller sends."""
    try:
        compact = rules.normalize_vat_id(raw)
    except rules.InvalidValue:
        return
    assert re.fullmatch(rules.VAT_ID_COMPACT_PATTERN, compact)


def test_countries_are_iso_3166_alpha_2_in_upper_case() -> None:
    assert rules.normalize_country("DE") == "DE"
    assert len(rules.COUNTRY_CODES) >= 249
    assert {"DE", "AT", "CH", "FR", "PL", "GB", "US"} <= set(rules.COUNTRY_CODES)
    for bad in ("de", "XX", "DEU", "UK", "EU", ""):
        with pytest.raises(rules.InvalidValue, match="ISO 3166-1"):
            rules.normalize_country(bad)


@pytest.mark.parametrize("good", ["a", "K-10023", "shop:4711", "A.B", "x" * 100, "~!$&'()*+,;=@"])
def test_external_ids_of_visible_ascii_are_accepted(good: str) -> None:
    assert rules.check_external_id(good) == good


@pytest.mark.parametrize("bad", ["", "x" * 101, "a/b", ".", "..", ".hidden", "a b", "ä", "a\x00"])
def test_external_ids_outside_one_visible_path_segment_are_refused(bad: str) -> None:
    with pytest.raises(rules.InvalidValue):
        rules.check_external_id(bad)


def _address(**overrides: str | None) -> PostalAddress:
    values: dict[str, str | None] = {
        "street": "Friedrichstraße 123",
        "postal_code": "10117",
        "city": "Berlin",
        "country": "DE",
    }
    return PostalAddress(**(values | overrides))  # type: ignore[arg-type]


def test_checked_normalizes_whitespace_vat_id_and_postal_code() -> None:
    data = PartnerData(
        name="  Müller   &  Söhne GmbH ",
        email=" info@mueller.example ",
        phone=" +49 30  1234567 ",
        vat_id="de 136 695 976",
        billing_address=_address(postal_code=" sw1a  1aa ", street2="   "),
    )
    result = rules.checked(data)
    assert result.name == "Müller & Söhne GmbH"
    assert result.email == "info@mueller.example"
    assert result.phone == "+49 30 1234567"
    assert result.vat_id == "DE136695976"
    assert result.billing_address == _address(postal_code="SW1A 1AA", street2=None)


def test_checked_names_every_bad_field_at_once() -> None:
    data = PartnerData(
        name="   ",
        is_customer=False,
        is_supplier=False,
        vat_id="DE000000000",
        shipping_address=_address(country="XX", city=" "),
    )
    with pytest.raises(InvalidInput) as exc:
        rules.checked(data)
    assert _pointers(exc) == [
        "/name",
        "/vat_id",
        "/shipping_address/city",
        "/shipping_address/country",
        "/is_customer",
        "/is_supplier",
    ]


def test_a_partner_has_at_least_one_role() -> None:
    assert rules.role_errors(True, False) == []
    assert rules.role_errors(False, True) == []
    assert rules.role_errors(True, True) == []
    assert [e.pointer for e in rules.role_errors(False, False)] == ["/is_customer", "/is_supplier"]


def test_with_changes_replaces_only_what_is_given_and_refuses_unknown_fields() -> None:
    current = PartnerData(name="Alt GmbH", email="alt@example.com")
    changed = rules.with_changes(current, {"name": "Neu GmbH", "email": None})
    assert changed == PartnerData(name="Neu GmbH", email=None)
    with pytest.raises(InvalidInput) as exc:
        rules.with_changes(current, {"created_by": "me"})
    assert _pointers(exc) == ["/created_by"]


def test_a_clients_put_replaces_its_own_fields_and_keeps_the_back_offices() -> None:
    current = PartnerData(
        name="Alt", is_customer=True, is_supplier=True, email="a@example.com", is_active=False
    )
    replaced = rules.with_client_fields(current, {"name": "Neu", "phone": "030 123"})
    assert replaced == PartnerData(
        name="Neu", is_customer=True, is_supplier=True, phone="030 123", is_active=False
    )
    assert rules.new_customer({"name": "Neu"}) == PartnerData(name="Neu")
    with pytest.raises(InvalidInput):
        rules.with_client_fields(current, {"name": "Neu", "is_active": True})


def test_the_back_office_may_set_every_field() -> None:
    supplier = PartnerData(name="Lieferant", is_customer=False, is_supplier=True)
    assert rules.fields_caller_may_not_set(BACK_OFFICE, None, supplier) == []
    customer = PartnerData(name="Kunde")
    assert rules.fields_caller_may_not_set(BACK_OFFICE, supplier, customer) == []


def test_sales_keeps_to_customers() -> None:
    customer = PartnerData(name="Kunde")
    assert rules.fields_caller_may_not_set(SALES, None, customer) == []
    deactivated = PartnerData(name="Kunde neu", email="k@example.com", is_active=False)
    assert rules.fields_caller_may_not_set(SALES, customer, deactivated) == []
    supplier = PartnerData(name="Lieferant", is_customer=False, is_supplier=True)
    assert rules.fields_caller_may_not_set(SALES, None, supplier) == ["is_supplier", "is_customer"]
    both = PartnerData(name="Kunde", is_supplier=True)
    assert rules.fields_caller_may_not_set(SALES, customer, both) == ["is_supplier"]
    # A partner the back office made a supplier too stays one when sales edits it.
    renamed = PartnerData(name="Kunde & Lieferant", is_supplier=True)
    assert rules.fields_caller_may_not_set(SALES, both, renamed) == []
    assert rules.fields_caller_may_not_set(SALES, both, customer) == ["is_supplier"]


def test_the_audit_action_names_deactivation_and_reactivation() -> None:
    active = PartnerData(name="Kunde")
    inactive = PartnerData(name="Kunde", is_active=False)
    assert rules.change_action(active, inactive) == "partner.deactivate"
    assert rules.change_action(inactive, active) == "partner.reactivate"
    renamed_and_inactive = PartnerData(name="Kunde neu", is_active=False)
    assert rules.change_action(active, renamed_and_inactive) == "partner.update"
    assert rules.change_action(active, PartnerData(name="Neu")) == "partner.update"


def test_snapshots_are_plain_json_values() -> None:
    data = PartnerData(name="Kunde", billing_address=_address())
    assert rules.snapshot(data)["billing_address"] == {
        "street": "Friedrichstraße 123",
        "street2": None,
        "postal_code": "10117",
        "city": "Berlin",
        "country": "DE",
    }
