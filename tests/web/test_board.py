"""The live board as two people see it in their browsers: assignment with a toast, moves,
catch-up after the realtime process dies, the 412 message on a stale edit, and screenshots."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops
from playwright.sync_api import Locator, Page, expect

from taskflow_core.accounts.models import User
from taskflow_core.teams.models import Team
from taskflow_core.teams.services import team_create, team_member_add
from tests.conftest import PASSWORD
from tests.gateway.conftest import RunningGateway
from tests.support.processes import REPO
from tests.web.conftest import Realtime

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NewPage = Callable[..., Page]
SCREENSHOTS = REPO / "docs" / "img"


@dataclass
class Crew:
    alice: User
    bob: User
    team: Team


@pytest.fixture
def crew(make_user: Callable[..., User]) -> Crew:
    alice, bob = make_user("alice"), make_user("bob")
    team = team_create(name="Launch", creator=alice)
    team_member_add(team=team, actor=alice, username="bob")
    return Crew(alice, bob, team)


@contextlib.contextmanager
def api(gateway: RunningGateway, user: User) -> Iterator[httpx.Client]:
    """A REST client for `user`, through the gateway (what another user's app would do)."""
    with gateway.client() as client:
        tokens = client.post(
            "/api/v1/auth/token/", json={"username": user.username, "password": PASSWORD}
        )
        assert tokens.status_code == 200, tokens.text
        client.headers["Authorization"] = f"Bearer {tokens.json()['access']}"
        yield client


def create_task(client: httpx.Client, team: Team, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/tasks/", json={"team": team.pk, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


def open_board(
    new_page: NewPage, gateway: RunningGateway, user: User, team: Team, **options: Any
) -> Page:
    """Sign in through the form, pick the team, wait until the socket is live."""
    page = new_page(**options)
    page.goto(f"{gateway.url}/")
    page.get_by_label("Username").first.fill(user.username)
    page.locator("#sign-in-password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("link", name=team.name).click()
    expect(page.get_by_role("heading", name=team.name, level=1)).to_be_visible()
    expect(page.locator("#live")).to_have_attribute("data-status", "open")
    # Set once; a reload would lose it, so it proves later changes arrived without one.
    page.evaluate("window.sameDocument = true")
    return page


def card(page: Page, title: str, status: str | None = None) -> Any:
    column = page.locator(f'.column[data-status="{status}"]') if status else page
    return column.locator(".card", has_text=title)


def add_task(page: Page, title: str, assignee: str | None = None) -> None:
    """Through the new-task form, with the keyboard where a user would type."""
    form = page.locator("#task-form")
    form.get_by_label("New task").fill(title)
    if assignee is not None:
        form.get_by_label("Assignee").select_option(label=assignee)
    form.get_by_role("button", name="Add task").click()


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.sameDocument") is True


def event_log(page: Page) -> list[str]:
    return list(page.evaluate("window.taskflowClient.eventLog"))


def test_an_assignment_shows_on_the_assignees_board_with_a_toast_and_moves_come_back(
    web_gateway: RunningGateway, new_page: NewPage, crew: Crew
) -> None:
    alice = open_board(new_page, web_gateway, crew.alice, crew.team)
    bob = open_board(new_page, web_gateway, crew.bob, crew.team)

    started_at = alice.evaluate("Date.now()")
    add_task(alice, "Write the launch post", assignee="bob")

    toast = bob.locator(".toast", has_text='alice assigned you "Write the launch post"')
    expect(toast).to_be_visible()
    expect(card(bob, "Write the launch post", "todo")).to_be_visible()
    shown_after_ms = int(toast.get_attribute("data-shown-at") or 0) - started_at
    assert 0 < shown_after_ms < 1000, f"the toast came {shown_after_ms} ms after Alice's click"
    expect(bob.locator("#unread-count")).to_have_text("1")
    assert_not_reloaded(bob)

    bob.get_by_label("Status of “Write the launch post”").select_option("done")
    expect(card(alice, "Write the launch post", "done")).to_be_visible()
    expect(card(alice, "Write the launch post", "todo")).to_have_count(0)
    assert_not_reloaded(alice)

    # The bell: the inbox lists the notification, and reading it clears the count.
    bob.get_by_role("button", name="Notifications, 1 unread").click()
    item = bob.locator("#inbox-list li", has_text="Write the launch post")
    expect(item).to_have_class("unread")
    item.get_by_role("button", name="Mark read").click()
    expect(item).to_have_class("read")
    expect(bob.get_by_role("button", name="Notifications, 0 unread")).to_be_visible()
    with api(web_gateway, crew.bob) as client:
        assert client.get("/api/v1/notifications/unread-count/").json() == {"count": 0}


def test_after_the_realtime_process_dies_the_board_catches_up_without_duplicates(
    web_gateway: RunningGateway, new_page: NewPage, crew: Crew, realtime_process: Realtime
) -> None:
    alice = open_board(new_page, web_gateway, crew.alice, crew.team)
    bob = open_board(new_page, web_gateway, crew.bob, crew.team)
    add_task(alice, "Fix the login bug")
    expect(card(alice, "Fix the login bug", "todo")).to_be_visible()
    expect(card(bob, "Fix the login bug", "todo")).to_be_visible()  # Bob's client has an id now
    bob.evaluate("window.resyncs = 0; window.taskflowClient.on('resync', () => window.resyncs++)")
    before = event_log(bob)

    realtime_process.kill()
    expect(bob.locator("#live")).not_to_have_attribute("data-status", "open")

    # Three changes while Bob's socket is down; Alice's app writes over REST as usual.
    add_task(alice, "Rotate the keys")
    expect(card(alice, "Rotate the keys", "todo")).to_be_visible()
    add_task(alice, "Update the changelog", assignee="bob")
    expect(card(alice, "Update the changelog", "todo")).to_be_visible()
    alice.get_by_label("Status of “Fix the login bug”").select_option("blocked")
    expect(card(alice, "Fix the login bug", "blocked")).to_be_visible()
    expect(card(bob, "Rotate the keys")).to_have_count(0)  # nothing reached Bob yet

    realtime_process.start()
    expect(bob.locator("#live")).to_have_attribute("data-status", "open", timeout=40_000)
    expect(card(bob, "Rotate the keys", "todo")).to_be_visible()
    expect(card(bob, "Update the changelog", "todo")).to_be_visible()
    expect(card(bob, "Fix the login bug", "blocked")).to_be_visible()
    expect(bob.locator(".toast", has_text='assigned you "Update the changelog"')).to_be_visible()
    assert_not_reloaded(bob)

    log = event_log(bob)
    assert len(log) == len(set(log)), f"duplicate ids in the event log: {log}"
    # Two task.created, one task.updated and the assignment's notification, all replayed.
    assert len(log) - len(before) == 4, log
    assert log[: len(before)] == before
    assert bob.evaluate("window.resyncs") == 0, "caught up by replay, not by a refetch"
    assert bob.locator(".card").count() == 3


def test_a_stale_edit_shows_the_412_message_and_the_fresh_state(
    web_gateway: RunningGateway, new_page: NewPage, crew: Crew
) -> None:
    with api(web_gateway, crew.alice) as client:
        task = create_task(client, crew.team, title="Draft the FAQ")
        bob = open_board(new_page, web_gateway, crew.bob, crew.team)
        bob.get_by_role("button", name="Draft the FAQ").click()
        dialog = bob.get_by_role("dialog", name="Edit task")
        expect(dialog.get_by_label("Title")).to_have_value("Draft the FAQ")

        renamed = client.patch(
            f"/api/v1/tasks/{task['id']}/",
            json={"title": "Draft the FAQ for launch day", "priority": "urgent"},
            headers={"If-Match": '"1"'},
        )
        assert renamed.status_code == 200, renamed.text
    expect(card(bob, "Draft the FAQ for launch day")).to_be_visible()  # the board is live

    dialog.get_by_label("Title").fill("Draft the FAQ (Bob's take)")
    dialog.get_by_role("button", name="Save").click()

    conflict = dialog.get_by_role("alert").filter(has_text="changed by someone else")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("your changes were not saved")
    expect(conflict).to_contain_text("current version (v2")
    expect(conflict).to_contain_text("Title: “Draft the FAQ (Bob's take)”")  # what Bob would lose
    expect(conflict).not_to_contain_text("Priority")  # Bob did not touch it
    expect(dialog.get_by_label("Title")).to_have_value("Draft the FAQ for launch day")
    expect(dialog.get_by_label("Priority")).to_have_value("urgent")

    # Saving again applies Bob's edit on top of the fresh version.
    dialog.get_by_label("Title").fill("Draft the FAQ (Bob's take)")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(card(bob, "Draft the FAQ (Bob's take)", "todo")).to_contain_text("Urgent")


def test_a_long_description_that_arrived_by_event_is_edited_whole(
    web_gateway: RunningGateway, new_page: NewPage, crew: Crew
) -> None:
    """Events carry a 1,000-character preview of a description: the editor must load the
    whole text, or saving an edit of it would cut it."""
    bob = open_board(new_page, web_gateway, crew.bob, crew.team)
    long_text = " ".join(f"word{n}" for n in range(600))  # about 4,500 characters
    with api(web_gateway, crew.alice) as client:
        task = create_task(client, crew.team, title="Write the spec", description=long_text)
    bob.get_by_role("button", name="Write the spec").click()  # known from the event only
    dialog = bob.get_by_role("dialog", name="Edit task")
    expect(dialog.get_by_label("Description")).to_have_value(long_text)

    dialog.get_by_label("Description").fill(long_text + " the end")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    with api(web_gateway, crew.alice) as client:
        saved = client.get(f"/api/v1/tasks/{task['id']}/").json()
    assert saved["description"] == long_text + " the end"


def open_task(page: Page, title: str) -> Locator:
    page.get_by_role("button", name=title).click()
    dialog = page.get_by_role("dialog", name="Edit task")
    expect(dialog.get_by_label("Title")).to_have_value(title)
    return dialog


def test_a_mention_in_a_comment_reaches_the_mentioned_live_and_edits_show_as_edited(
    web_gateway: RunningGateway, new_page: NewPage, crew: Crew
) -> None:
    with api(web_gateway, crew.alice) as client:
        create_task(client, crew.team, title="Plan the release")
    alice = open_board(new_page, web_gateway, crew.alice, crew.team)
    bob = open_board(new_page, web_gateway, crew.bob, crew.team)
    alice_dialog = open_task(alice, "Plan the release")
    bob_dialog = open_task(bob, "Plan the release")
    expect(bob_dialog.locator("#comment-list")).to_contain_text("No comments yet.")

    # Alice writes with the keyboard: Ctrl+Enter sends.
    alice_dialog.get_by_label("Add a comment").fill(
        "@bob can you review the notes? Thanks, bob@home"
    )
    alice_dialog.get_by_label("Add a comment").press("Control+Enter")
    expect(alice_dialog.get_by_label("Add a comment")).to_have_value("")

    comment = bob_dialog.locator(".comment", has_text="can you review the notes?")
    expect(comment).to_be_visible()
    expect(comment.locator("mark.mention")).to_have_text(["@bob"])  # not "bob@home"
    expect(comment).to_contain_text("alice")
    expect(comment.get_by_role("button", name="Edit comment")).to_have_count(0)  # not Bob's
    expect(comment.get_by_role("button", name="Delete comment")).to_have_count(0)
    toast = bob.locator(".toast", has_text='alice mentioned you in a comment on "Plan the release"')
    expect(toast).to_be_visible()
    expect(bob_dialog.get_by_role("button", name="Watching")).to_have_attribute(
        "aria-pressed", "true"
    )  # the mentioned become watchers

    bob_dialog.get_by_label("Add a comment").fill("Will do @alice")
    bob_dialog.get_by_role("button", name="Comment", exact=True).click()
    bobs = alice_dialog.locator(".comment", has_text="Will do")
    expect(bobs.locator("mark.mention")).to_have_text(["@alice"])
    expect(bobs).not_to_contain_text("edited")

    mine = bob_dialog.locator(".comment", has_text="Will do")
    mine.get_by_role("button", name="Edit comment").click()
    editor = bob_dialog.get_by_label("Edit your comment")  # the text is in the box now
    expect(editor).to_be_focused()
    expect(editor).to_have_value("Will do @alice")
    editor.fill("Will do by Friday, @alice")
    bob_dialog.get_by_role("button", name="Save comment").click()
    expect(mine).to_contain_text("edited")
    expect(bobs).to_contain_text("Will do by Friday")
    expect(bobs.locator(".edited")).to_have_text("edited")

    # The team owner may delete anyone's comment; it leaves Bob's dialog live too.
    bobs.get_by_role("button", name="Delete comment").click()
    expect(bob_dialog.locator(".comment")).to_have_count(1)
    expect(bob_dialog.locator("#comment-list")).not_to_contain_text("Will do")

    # Unwatching is remembered by the server: the button says so once it answered.
    bob_dialog.get_by_role("button", name="Watching").click()
    expect(bob_dialog.locator("#watch-toggle")).to_have_attribute("aria-pressed", "false")
    assert_not_reloaded(alice)
    assert_not_reloaded(bob)


def test_the_board_is_tidy_on_a_desktop_and_a_phone(
    web_gateway: RunningGateway, new_page: NewPage, crew: Crew
) -> None:
    board: list[tuple[str, dict[str, Any]]] = [
        ("Plan the launch webinar", {"priority": "high", "assignee": crew.alice.pk}),
        ("Collect customer quotes", {"assignee": crew.bob.pk}),
        ("Translate the pricing page", {"priority": "low"}),
        (
            "Fix the signup email",
            {"status": "in_progress", "priority": "urgent", "assignee": crew.bob.pk},
        ),
        (
            "Load-test the realtime service",
            {"status": "in_progress", "assignee": crew.alice.pk},
        ),
        (
            "Legal review of the terms",
            {"status": "blocked", "priority": "high", "due_at": "2026-01-15T17:00:00Z"},
        ),
        ("Set up the status page", {"status": "done", "assignee": crew.bob.pk}),
        ("Design the new logo", {"status": "done", "priority": "low"}),
        ("Print the flyers", {"status": "cancelled", "priority": "low"}),
    ]
    with api(web_gateway, crew.alice) as client:
        for title, fields in board:
            create_task(client, crew.team, title=title, **fields)

    desktop = open_board(
        new_page, web_gateway, crew.bob, crew.team, viewport={"width": 1280, "height": 800}
    )
    expect(desktop.locator(".card")).to_have_count(9)
    columns = desktop.locator(".column")
    boxes = [columns.nth(index).bounding_box() for index in range(5)]
    tops = {round(box["y"]) for box in boxes if box is not None}
    assert None not in boxes
    assert len(tops) == 1, "the five status columns sit side by side"
    assert_fits(desktop)
    assert_every_control_is_labelled(desktop)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    still_screenshot(desktop, "board-desktop.png")

    phone = open_board(
        new_page,
        web_gateway,
        crew.bob,
        crew.team,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    expect(phone.locator(".card")).to_have_count(9)
    assert_fits(phone)
    still_screenshot(phone, "board-phone.png")

    # Keyboard only: tab to a card's title, open it, and Escape closes the dialog.
    desktop.get_by_role("button", name="Plan the launch webinar").focus()
    desktop.keyboard.press("Enter")
    dialog = desktop.get_by_role("dialog", name="Edit task")
    expect(dialog.get_by_label("Title")).to_be_focused()
    desktop.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def still_screenshot(page: Page, name: str) -> None:
    """No hover, caret or animation, and the committed image is rewritten only when the look
    changed: chromium's anti-aliasing may move a few pixels by one shade from run to run."""
    page.mouse.move(0, 0)
    page.locator("#main").focus()
    png = page.screenshot(animations="disabled", caret="hide")
    path = SCREENSHOTS / name
    if not path.exists() or not looks_the_same(path.read_bytes(), png):
        path.write_bytes(png)


def looks_the_same(old: bytes, new: bytes) -> bool:
    with Image.open(io.BytesIO(old)) as a, Image.open(io.BytesIO(new)) as b:
        if a.size != b.size:
            return False
        difference = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
        bands: list[tuple[int, int]] = difference.getextrema()  # type: ignore[assignment]
        return max(high for _, high in bands) <= 8  # (low, high) for each of R, G, B


def assert_fits(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the viewport"


def assert_every_control_is_labelled(page: Page) -> None:
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('input, select, textarea, button')]
            .filter((el) => !el.closest('[hidden]') && !(el.labels?.length
                || el.getAttribute('aria-label') || el.textContent.trim()))
            .map((el) => el.outerHTML.slice(0, 80))"""
    )
    assert unlabelled == []


def test_screenshots_exist_for_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    for name in ("board-desktop.png", "board-phone.png"):
        assert f"docs/img/{name}" in readme
        assert (Path(SCREENSHOTS) / name).stat().st_size > 10_000


def test_a_newcomer_registers_creates_a_team_and_a_teammate_sees_it_appear(
    web_gateway: RunningGateway, new_page: NewPage, make_user: Callable[..., User]
) -> None:
    bob = make_user("bob")
    bob_page = new_page()
    bob_page.goto(f"{web_gateway.url}/")
    bob_page.locator("#sign-in-username").fill(bob.username)
    bob_page.locator("#sign-in-password").fill(PASSWORD)
    bob_page.keyboard.press("Enter")  # submits the form: no mouse needed
    expect(bob_page.get_by_role("heading", name="Pick a team")).to_be_visible()
    expect(bob_page.locator("#team-list")).to_contain_text("You are not in a team yet")
    expect(bob_page.locator("#live")).to_have_attribute("data-status", "open")

    carol = new_page()
    carol.goto(f"{web_gateway.url}/")
    register = carol.locator("#register-form")
    register.get_by_label("Username").fill("carol")
    register.get_by_label("Email").fill("carol@example.com")
    register.get_by_label("Password").fill("short")
    register.get_by_role("button", name="Register and sign in").click()
    expect(register.get_by_role("alert")).to_contain_text("password")  # the API's own words
    register.get_by_label("Password").fill(PASSWORD)
    register.get_by_role("button", name="Register and sign in").click()
    carol.get_by_label("Team name").fill("Garden club")
    carol.get_by_role("button", name="Create team").click()
    expect(carol.get_by_role("heading", name="Garden club", level=1)).to_be_visible()
    carol.get_by_label("Add a member by username").fill("bob")
    carol.get_by_role("button", name="Add member").click()
    expect(carol.locator(".toast", has_text="bob joined Garden club")).to_be_visible()
    add_task(carol, "Water the tomatoes", assignee="bob")

    # Bob's list learns about the team from the first event of it, without a reload.
    bob_page.get_by_role("link", name="Garden club").click()
    expect(card(bob_page, "Water the tomatoes", "todo")).to_be_visible()
    expect(bob_page.locator("#unread-count")).to_have_text("1")

    carol.get_by_role("button", name="Sign out").click()
    expect(carol.get_by_role("heading", name="Sign in")).to_be_visible()
    assert carol.evaluate("sessionStorage.getItem('taskflow.refresh')") is None
