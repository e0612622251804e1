"""The web page in a real browser: Debian's chromium, driven by Playwright (never a downloaded browser).

Skipped, with the reason, where /usr/bin/chromium or Playwright is absent (`make test` installs
chromium where it can). Screenshots go to test-output/ for a person to look at.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backends import Backend, make_tokens
from tests.conftest import Server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUT = Path(__file__).parent.parent / "test-output"

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    pytest.skip("playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

from search.settings import Settings  # noqa: E402

# Playwright's 5 s default deadline for an expectation: a first sign-in on Elasticsearch (two
# writes that wait for a refresh, the first page's routes built lazily by FastAPI 0.165) took
# 7-9 s on this 2-core machine on 5 Dec while the suite ran. Still a deadline, not a sleep.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="module")
def site(
    backend: Backend, loaded: Settings, sample_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    """A writable copy of the sample store on each backend, with a server on it."""
    settings = backend.copy(loaded, sample_files, tmp_path_factory.mktemp("browser"), screening_poll_seconds=0.2)
    tokens = make_tokens(settings)
    with Server(settings) as server:
        yield server.url, tokens


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--no-first-run"],
        )  # fmt: skip
        yield b
        b.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


def sign_in(page: Page, url: str, token: str) -> None:
    page.goto(f"{url}/ui/search?lang=en")
    expect(page).to_have_url(f"{url}/ui/login?next=%2Fui%2Fsearch%3Flang%3Den")
    page.fill("#key", token)
    page.keyboard.press("Enter")  # keyboard only
    expect(page.locator("#name")).to_be_visible()


def shot(page: Page, name: str) -> None:
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def test_sign_in_rejects_a_bad_key(page: Page, site: tuple[str, dict[str, str]]) -> None:
    url, _ = site
    response = page.goto(f"{url}/ui/login?lang=en")
    assert response is not None and "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.fill("#key", "sus_nope_nope")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("not accepted")


@pytest.mark.parametrize(
    ("query", "slug"), [("陳大文", "han-traditional"), ("Chan Tai Man", "cantonese"), ("Chen Dawen", "pinyin")]
)
def test_search_shows_the_expected_offices(page: Page, site: tuple[str, dict[str, str]], query: str, slug: str) -> None:
    url, tokens = site
    sign_in(page, url, tokens["investigator"])
    page.fill("#name", query)
    page.fill("input[name=birth_date]", "1971-02-11")
    page.keyboard.press("Enter")
    expect(page.locator("#verdict")).to_contain_text("Seen by")
    offices = page.locator("li.match").evaluate_all("els => els.map(e => e.dataset.office)")
    assert {"CN-GD", "CN-HK", "CN-MO"} <= set(offices), offices
    assert "CN-FJ" not in offices  # the Fujian namesake was born in 1980
    why = page.locator("li.match[data-office=CN-HK] ul.why").first.inner_text()
    assert "陳大文" in why or "CHAN Tai Man" in why
    shot(page, f"results-{slug}")


def test_namesakes_apart_own_office_not_a_partner_and_chinese_explanations(
    page: Page, site: tuple[str, dict[str, str]]
) -> None:
    """陳大文 with no birth date, asked by a CN-GD investigator: two different people (1971: CN-GD,
    CN-HK, CN-MO; 1980: CN-FJ), three *partner* offices (CN-GD is the asker's own), and in Chinese
    the explanations are Chinese too (issue #15)."""
    url, tokens = site
    sign_in(page, url, tokens["investigator"])
    page.fill("#name", "陳大文")
    page.select_option("select[name=entity_type]", "person")
    page.keyboard.press("Enter")
    expect(page.locator("#verdict")).to_have_text("Seen by 3 partner offices (and by your own office)")
    expect(page.locator("#entities")).to_contain_text("2 different people match this name")
    groups = page.locator("section.entity").evaluate_all("els => els.map(e => e.dataset.offices)")
    assert sorted(groups) == ["CN-FJ", "CN-GD CN-HK CN-MO"], groups
    expect(page.locator("section.entity .apart").first).to_contain_text("birth date conflicts")
    shot(page, "namesakes")
    page.click("#lang-switch")
    expect(page.locator("#verdict")).to_contain_text("3 个协作办公室掌握此对象")
    why = " ".join(page.locator("ul.why").all_inner_texts()) + " ".join(page.locator(".apart").all_inner_texts())
    assert "繁体 ⇄ 简体" in why and "出生日期不符" in why, why
    for english in ("identical", "characters", "birth date", "conflicts", "traditional"):
        assert english not in why, (english, why)
    shot(page, "namesakes-zh")


def test_worth_a_look_section(page: Page, site: tuple[str, dict[str, str]]) -> None:
    """A syllable off: "not seen", and under it the records worth a look, each saying why."""
    url, tokens = site
    sign_in(page, url, tokens["investigator"])
    page.fill("#name", "Chen Dewen")
    page.keyboard.press("Enter")
    expect(page.locator("#verdict")).to_have_text("Not confirmed by any partner office: 4 records worth a look")
    expect(page.locator("#possible-title")).to_contain_text("Worth a look, not confirmed")
    offices = page.locator("#possible li.match").evaluate_all("els => els.map(e => e.dataset.office)")
    assert {"CN-GD", "CN-HK", "CN-MO"} <= set(offices), offices
    expect(page.locator("#possible .doubt").first).to_contain_text("differs by a whole syllable")
    shot(page, "worth-a-look")


def test_a_cross_site_login_cannot_replace_the_session(
    page: Page, site: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    """An attacker page on another origin posts its own (HK) key to /ui/login: the signed-in CN-GD
    session stays, and so does a same-site sign-in with another key (issue #18)."""
    url, tokens = site
    sign_in(page, url, tokens["investigator"])
    attacker = tmp_path / "attacker.html"  # a file:// page: another origin than the service
    attacker.write_text(
        f'<form id="f" method="post" action="{url}/ui/login">'
        f'<input name="key" value="{tokens["hk-admin"]}"><input name="next" value="/ui/search"></form>'
        '<script>document.getElementById("f").submit()</script>',
        encoding="utf-8",
    )
    page.goto(attacker.as_uri())
    page.wait_for_load_state()
    page.goto(f"{url}/ui/search?lang=en")
    expect(page.locator("header")).to_contain_text("office CN-GD")
    # Even from our own login page, another key does not silently replace the session.
    page.goto(f"{url}/ui/login?lang=en")
    page.fill("#key", tokens["hk-admin"])
    page.keyboard.press("Enter")
    expect(page.locator(".error")).to_contain_text("Sign out first")
    page.goto(f"{url}/ui/search?lang=en")
    expect(page.locator("header")).to_contain_text("office CN-GD")


def test_not_seen_and_language_switch(page: Page, site: tuple[str, dict[str, str]]) -> None:
    url, tokens = site
    sign_in(page, url, tokens["investigator"])
    page.fill("#name", "完全陌生的名字")
    page.keyboard.press("Enter")
    expect(page.locator("#verdict")).to_have_text("Not seen by any partner office")
    page.click("#lang-switch")
    expect(page.locator("#verdict")).to_have_text("没有协作办公室掌握此对象")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("label[for=name]")).to_have_text("姓名/名称")
    shot(page, "not-seen-zh")
    page.click("#lang-switch")
    expect(page.locator("label[for=name]")).to_have_text("Name")


def test_open_a_record_and_see_the_same_entity_elsewhere(page: Page, site: tuple[str, dict[str, str]]) -> None:
    url, tokens = site
    sign_in(page, url, tokens["investigator"])
    page.fill("#name", "CHAN Tai Man")
    page.keyboard.press("Enter")
    page.locator("li.match[data-office=CN-HK] a.rec").first.click()
    expect(page.locator("#record-name")).to_contain_text("HK-2024-00001")
    expect(page.locator("#case-id")).not_to_have_text("—")
    others = page.locator("section.office").evaluate_all("els => els.map(e => e.dataset.office)")
    assert {"CN-GD", "CN-MO"} <= set(others) and "CN-HK" not in others
    shot(page, "record")


def test_analyst_uploads_a_watchlist_and_downloads_results(
    page: Page, site: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, tokens = site
    sign_in(page, url, tokens["analyst"])
    page.goto(f"{url}/ui/screenings?lang=en")
    watchlist = tmp_path / "market-stalls.csv"
    watchlist.write_text("query_id,name,birth_date\ns1,陳大文,1971-02-11\ns2,,\ns3,Nobody Atall,\n", encoding="utf-8")
    page.set_input_files("#file", str(watchlist))
    page.click("form[enctype] button[type=submit]")
    expect(page.locator("#status")).to_have_text("done", timeout=30_000)
    expect(page.locator("#rows-done")).to_have_text("3")
    expect(page.locator("#rows-rejected")).to_have_text("1")
    expect(page.locator("#rows-seen")).to_have_text("1")
    expect(page.locator("#rows-not-seen")).to_have_text("1")
    # Finished: no Cancel button, and a preview of what it found (issue #15).
    expect(page.locator("#cancel-form")).to_have_count(0)
    verdicts = page.locator("#preview tbody tr").evaluate_all("els => els.map(e => e.dataset.verdict)")
    assert verdicts == ["seen", "rejected", "unseen"], verdicts
    expect(page.locator("#preview tbody tr[data-line='2']")).to_contain_text("CN-GD")
    shot(page, "screening")
    with page.expect_download() as info:
        page.click("#download-csv")
    text = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["office"] for r in rows if r["query_id"] == "s1"} >= {"CN-GD", "CN-HK", "CN-MO"}
    assert next(r for r in rows if r["query_id"] == "s2")["error"] == "line 3: name is empty"
    assert next(r for r in rows if r["query_id"] == "s3")["seen"] == "false"


def test_roles_see_only_their_pages(page: Page, site: tuple[str, dict[str, str]]) -> None:
    url, tokens = site
    sign_in(page, url, tokens["system"])
    page.goto(f"{url}/ui/screenings?lang=en")
    expect(page.locator(".error")).to_have_text("Your key's role may not do this.")
    page.goto(f"{url}/ui/records/CN-HK:HK-2024-00001?lang=en")
    expect(page.locator(".error")).to_have_text("Your key's role may not do this.")


def test_readable_on_a_tablet(browser: Browser, site: tuple[str, dict[str, str]]) -> None:
    """A portrait tablet (820 px wide): results fit the width, nothing scrolls sideways."""
    url, tokens = site
    context = browser.new_context(viewport={"width": 820, "height": 1180}, locale="zh-CN")
    pg = context.new_page()
    try:
        pg.goto(f"{url}/ui/login")
        expect(pg.locator("h1")).to_have_text("登录")  # Chinese browser, Chinese page
        pg.fill("#key", tokens["investigator"])
        pg.keyboard.press("Enter")
        pg.fill("#name", "Chen Dawen")
        pg.keyboard.press("Enter")
        expect(pg.locator("#verdict")).to_contain_text("协作办公室")
        assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(pg, "results-tablet-zh")
    finally:
        context.close()


def test_api_docs_render_without_internet(page: Page, site: tuple[str, dict[str, str]]) -> None:
    """/docs is Swagger UI served by the service itself: every request stays on this origin."""
    url, _ = site
    origins: set[str] = set()
    page.on("request", lambda req: origins.add(req.url.split("/")[2]))
    page.goto(f"{url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("suspects")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert origins == {url.split("/")[2]}, origins


def test_watchlist_alerts_inbox_side_by_side_and_dismiss_by_keyboard(
    page: Page, site: tuple[str, dict[str, str]]
) -> None:
    """An analyst watches "CHAN Tai Man" (born 1971-02-11): the partners' records of him show up at
    once in the inbox, entry and record side by side with the explanation; a dismissal with a
    reason, from the keyboard; the header counts what is still open; Chinese labels too."""
    url, tokens = site
    sign_in(page, url, tokens["analyst"])
    page.goto(f"{url}/ui/watchlists?lang=en")
    page.fill("#list-name", "Winter raids")
    page.keyboard.press("Enter")
    section = page.locator("section.watchlist", has_text="Winter raids")
    expect(section).to_be_visible()
    section.locator("input[name=name]").fill("CHAN Tai Man")
    section.locator("input[name=birth_date]").fill("1971-02-11")
    page.keyboard.press("Enter")
    expect(page.locator("#alerts-link .count")).to_be_visible()
    opened = int(page.locator("#alerts-link .count").inner_text())
    page.locator("#alerts-link").focus()
    page.keyboard.press("Enter")
    alerts = page.locator("li.alert[data-status=open]")
    expect(alerts.first).to_be_visible()
    assert alerts.count() == opened >= 2  # CN-HK and CN-MO hold him; CN-GD is the analyst's own office
    first = alerts.first
    expect(first.locator(".side-by-side")).to_contain_text("CHAN Tai Man")
    assert "1971-02-11" in first.locator("ul.why").inner_text()
    shot(page, "alerts-inbox")
    alert_id = first.get_attribute("id")
    first.locator("input[name=reason]").fill("checked: our case already")
    first.locator("button[value=dismiss]").focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#{alert_id}")).to_have_attribute("data-status", "dismissed")
    expect(page.locator("#alerts-link .count")).to_have_text(str(opened - 1))
    page.goto(f"{url}/ui/alerts?lang=zh")
    expect(page.locator("#alerts-link")).to_contain_text("预警")
    expect(page.locator(f"#{alert_id}")).to_contain_text("已驳回")
