"""The contract record: the OWNER sees and corrects it; it is in the OWNER's export;
changes are audited by field name only."""

from __future__ import annotations

import json

from tests.helpers import Api
from tests.privacy.test_export_and_erasure import completed_export
from tests.queries import REQUEST_EXPORT
from tests.tenancy.common import CONTRACT

UPDATE = """
mutation($input: UpdateContractInput!) { updateContract(input: $input) {
  contract { companyName postalAddress country vatId billingEmail contactName } errors { field code } } }
"""
FULL = {
    "companyName": "Acme Holding B.V.",
    "postalAddress": "Dam 1\r\n1012 JS Amsterdam",
    "country": "NL",
    "billingEmail": "billing-5521@acme.example",
    "contactName": "Carla Contact",
}


async def test_the_owner_records_and_corrects_the_contract_and_only_the_owner(api: Api) -> None:
    owner = await api.owner("acme")
    admin = await api.member(owner, "ada", role="ADMIN")
    assert (await owner.browser.gql(CONTRACT)).data["viewer"]["tenant"]["contract"] is None
    partial = await owner.browser.gql(UPDATE, {"input": {"companyName": "Acme"}})
    assert {f for f, _ in partial.user_errors("updateContract")} == {
        "input.postalAddress",
        "input.country",
        "input.billingEmail",
        "input.contactName",
    }
    created = (await owner.browser.gql(UPDATE, {"input": FULL})).ok("updateContract")["contract"]
    assert created["postalAddress"] == "Dam 1\n1012 JS Amsterdam" and created["vatId"] is None

    corrected = await owner.browser.gql(UPDATE, {"input": {"vatId": "de 123456789", "contactName": "Carl Contact"}})
    assert corrected.ok("updateContract")["contract"]["vatId"] == "DE123456789"
    cleared = await owner.browser.gql(UPDATE, {"input": {"vatId": None, "companyName": None}})
    assert cleared.ok("updateContract")["contract"]["vatId"] is None
    assert cleared.ok("updateContract")["contract"]["companyName"] == "Acme Holding B.V."

    bad = await owner.browser.gql(UPDATE, {"input": {"country": "XX", "billingEmail": "@", "vatId": "1"}})
    assert {f for f, _ in bad.user_errors("updateContract")} == {"input.country", "input.billingEmail", "input.vatId"}

    for forbidden in (
        await admin.browser.gql(UPDATE, {"input": {"contactName": "Eve"}}),
        await admin.browser.gql(CONTRACT),
    ):
        assert forbidden.codes == ["FORBIDDEN"]
    events = await api.db.fetch(
        "SELECT action, changes FROM audit_event WHERE action LIKE 'contract.%' ORDER BY chain_seq"
    )
    assert [e["action"] for e in events] == ["contract.created", "contract.updated", "contract.updated"]
    logged = " ".join(e["changes"] for e in events)
    for value in ("Carla", "Carl Contact", "billing-5521", "DE123456789", "Dam 1"):
        assert value not in logged
    assert json.loads(events[1]["changes"]) == {"vat_id": {"changed": True}, "contact_name": {"changed": True}}


async def test_the_contract_is_in_the_owners_export_and_not_in_a_members(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    (await owner.browser.gql(UPDATE, {"input": FULL})).ok("updateContract")
    for person, expected in ((owner, "billing-5521@acme.example"), (member, None)):
        request_id = (await person.browser.gql(REQUEST_EXPORT)).ok("requestDataExport")["dataRequest"]["id"]
        done = await completed_export(person.browser, request_id)
        assert done["downloadUrl"]
        archive = (await person.browser.http.get(f"/exports/{request_id}")).json()
        contract = archive.get("contract")
        assert (contract or {}).get("billingEmail") == expected
