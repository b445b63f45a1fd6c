"""Adding many accounts from a CSV file on the users page (Excel's flavour: a BOM, `;`,
CRLF), with the problems shown by file line; and the CSV reader itself, run in Chromium."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.browser import open_page, shot
from tests.helpers import PASSWORD, Api

BOM = "\ufeff"


def excel_csv(path: Path, *lines: str) -> Path:
    """As Excel saves "CSV UTF-8" in a locale whose list separator is `;`."""
    path.write_bytes((BOM + "\r\n".join(lines) + "\r\n").encode())
    return path


async def test_an_owner_adds_accounts_from_a_csv_file(api: Api, chromium: Any, tmp_path: Path) -> None:
    await api.owner("acme", seats=10)
    page, errors = await open_page(chromium)
    await page.goto(api.base_url + "/login?tenant=acme")
    await page.get_by_label("Username or email", exact=True).fill("owner")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("link", name="Users", exact=True).click()
    upload = page.get_by_label("CSV file", exact=True)

    # A file with problems: line numbers count the header as line 1, and a quoted value
    # that spans two lines moves the next records down.
    bad = excel_csv(
        tmp_path / "bad.csv",
        "Username;E-mail;Display_Name;Role",
        'ann;ann@acme.example;"Ann ""the boss""\r\nAnnesdóttir";admin',
        "bob;not-an-email;Bob;member",
        "owner;new-owner@acme.example;;",
        "cyrus;cyrus@acme.example;Cyrus;",
    )
    await upload.set_input_files(bad)
    await page.get_by_text("4 accounts in bad.csv").wait_for()
    await page.get_by_role("button", name="Add 4 accounts and invite them").click()
    problems = page.get_by_role("table", name="Problems in the file")
    await problems.wait_for()
    rows = [
        [c.strip() for c in await r.locator("td").all_text_contents()] for r in await problems.locator("tbody tr").all()
    ]
    assert [(line, field) for line, field, _ in rows] == [
        ("line 2", "display name"),  # a line break inside quotes, which display names refuse
        ("line 4", "email"),
        ("line 5", "username"),
    ], rows
    assert rows[1][2].startswith("Not a valid email address") and "is taken" in rows[2][2]
    await shot(page, "admin-bulk-add-problems")
    assert await api.count("app_user") == 1  # all or nothing

    # A role the API does not know is caught before sending.
    await upload.set_input_files(excel_csv(tmp_path / "role.csv", "username;email;role", "dan;dan@acme.example;boss"))
    await page.get_by_text("Use member, admin or owner").wait_for()
    assert "line 2" in await page.get_by_role("table", name="Problems in the file").text_content()

    # The corrected file: previewed, then every account added and invited.
    good = excel_csv(
        tmp_path / "good.csv",
        "username;email;displayName;role",
        'ann;ann@acme.example;"Ann ""the boss"" Annesdóttir";admin',
        "bob;bob@acme.example;Bob;member",
        'cyrus;cyrus@acme.example;"Cyrus; from Sales";',
    )
    await upload.set_input_files(good)
    preview = page.get_by_role("table", name="Accounts in the file")
    await preview.wait_for()
    assert await preview.locator("tbody tr").count() == 3
    assert 'Ann "the boss" Annesdóttir' in await preview.text_content()
    assert "Cyrus; from Sales" in await preview.text_content()
    await shot(page, "admin-bulk-add")
    await page.get_by_role("button", name="Add 3 accounts and invite them").click()
    await page.get_by_text("Added 3 accounts; each was sent an invitation.").wait_for()
    for username in ("ann", "bob", "cyrus"):
        await page.locator(f"tr[data-user='{username}']").wait_for()
    assert await api.db.fetchval("SELECT role FROM app_user WHERE username = 'ann'") == "ADMIN"
    await api.mailbox.wait_for("cyrus@acme.example")
    assert errors == []


async def test_files_too_big_or_too_long_are_refused_before_sending(api: Api, chromium: Any, tmp_path: Path) -> None:
    owner = await api.owner("acme")
    page, errors = await open_page(chromium)
    await page.context.add_cookies([{"name": "session", "value": owner.browser.session_cookie, "url": api.base_url}])
    await page.goto(api.base_url + "/admin/users")
    upload = page.get_by_label("CSV file", exact=True)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.post_data or "") if r.url.endswith("/graphql") else None)

    rows = [f"user{i},user{i}@acme.example" for i in range(1001)]
    await upload.set_input_files(excel_csv(tmp_path / "long.csv", "username,email", *rows))
    await page.get_by_text("The file has 1,001 accounts; at most 1,000 can be added at once.").wait_for()

    padding = "x" * 1100
    big = [f"user{i},user{i}@acme.example,{padding}" for i in range(1000)]
    await upload.set_input_files(excel_csv(tmp_path / "big.csv", "username,email,notes", *big))
    await page.get_by_text("files up to 1 MB can be added").wait_for()

    await upload.set_input_files(excel_csv(tmp_path / "nohead.csv", "ann,ann@acme.example"))
    await page.get_by_text('the header has no "username" column').wait_for()
    assert not any("addUsers" in body for body in requests)
    assert errors == []


CASES: list[tuple[str, list[list[Any]]]] = [
    ("a,b\r\n1,2\r\n", [[1, ["a", "b"]], [2, ["1", "2"]]]),
    ('\ufeffa;b\n1;"x;y"\n', [[1, ["a", "b"]], [2, ["1", "x;y"]]]),
    (
        'a,b\n"he said ""hi""","two\r\nlines"\n3,4',
        [[1, ["a", "b"]], [2, ['he said "hi"', "two\nlines"]], [4, ["3", "4"]]],
    ),
    ("a;b\n\n;;\n1;2\r", [[1, ["a", "b"]], [4, ["1", "2"]]]),  # blank lines and Excel's empty rows
    ("a,b\r1,2\r3,4", [[1, ["a", "b"]], [2, ["1", "2"]], [3, ["3", "4"]]]),  # old Mac line ends
    ('a,b\n"",\n', [[1, ["a", "b"]], [2, ["", ""]]]),
    ('a;"b,c";d\n', [[1, ["a", "b,c", "d"]]]),  # `;` wins on the header line, quotes aside
    ("", []),
]


async def test_the_csv_reader_follows_rfc_4180(api: Api, chromium: Any) -> None:
    page, errors = await open_page(chromium)
    await page.goto(api.base_url + "/login")
    results = await page.evaluate(
        """async (cases) => {
          const csv = await import('/static/csv.js');
          const parsed = cases.map(([text]) => csv.parseCsv(text).map((r) => [r.line, r.fields]));
          const failures = ['a,b\\n1,"open\\n2,3\\n', 'a,b\\n1,"x"y\\n', 'a,b\\n1,x"y\\n'].map((text) => {
            try { csv.parseCsv(text); return null; } catch (e) { return [e.line, e.message]; }
          });
          return { parsed, failures };
        }""",
        CASES,
    )
    assert results["parsed"] == [expected for _, expected in CASES], json.dumps(results["parsed"])
    assert [line for line, _ in results["failures"]] == [2, 2, 2]
    assert "never closed" in results["failures"][0][1]
    assert errors == []
