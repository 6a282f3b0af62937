#!/usr/bin/env python3
"""The web console in a real browser (issue 12): headless Chromium, driven by chromedriver through selenium 4,
against a running `postdesk serve --http-listen`, with real mail in and out through the test's OpenSMTPD and Dovecot.

Run by Tests/EndToEndTests/ConsoleBrowserTests.swift, which starts the mail servers and postdesk and passes the
ports and accounts; Tests/Browser/README.md shows how to run it by hand. `--self-check` drives a tiny page of its
own instead, to check the browser tooling (Chromium, chromedriver, selenium, Accept-Language) without postdesk.

Every step takes a screenshot (NN-step.png, and NN-step-failed.png with the page's HTML when it fails) into
--screenshots. Exit status 0 when every step passed, 1 when one failed (the message says which and why), 2 for bad
arguments or missing tools.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import email.utils
import http.server
import imaplib
import os
import shutil
import signal
import smtplib
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Callable, Iterator, Optional

# Selenium Manager would try to download a driver or a browser; we name both, and it must never go online.
os.environ.setdefault("SE_OFFLINE", "true")
os.environ.setdefault("SE_AVOID_STATS", "true")

try:
    from selenium import webdriver
    from selenium.common.exceptions import (
        JavascriptException,
        NoAlertPresentException,
        NoSuchElementException,
        StaleElementReferenceException,
        WebDriverException,
    )
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError as error:  # pragma: no cover - reported to the person running it
    print(f"console_test: selenium is missing ({error}); run scripts/install-deps.sh", file=sys.stderr)
    sys.exit(2)

PROJECT = "SD"
QUEUE_PATH = f"/projects/{PROJECT}/queue"
LOGIN_PATH = "/login"
# The console's promise: a new request shows in the open queue within 5 s, without a reload (issue 12).
LIVE_QUEUE_SECONDS = 5
# Mail through OpenSMTPD, Dovecot, postdesk's mailbox and notifier: generous, the machine is shared.
MAIL_SECONDS = 30
PAGE_SECONDS = 15


class StepFailure(Exception):
    """A check that did not hold; the message says what was expected and what was seen."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailure(message)


# MARK: - The browser


def find_binary(explicit: Optional[str], names: list[str]) -> Optional[str]:
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def start_browser(chromium: str, chromedriver: str, language: str) -> WebDriver:
    """A fresh headless Chromium (its own profile: no cookies) whose UI language and Accept-Language are `language`."""
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in [
        "--headless=new",
        "--no-sandbox",  # the tests run as root, where Chromium's sandbox cannot start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        f"--lang={language}",
        f"--accept-lang={language}",
        # Nothing but loopback: no background requests to the browser vendor, and no other host resolves.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--no-first-run",
        "--no-pings",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    ]:
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    try:
        driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    except WebDriverException as error:
        raise StepFailure(f"chromedriver {chromedriver} could not start {chromium}: {error.msg}") from error
    driver.set_page_load_timeout(PAGE_SECONDS)
    return driver


class Run:
    """One run of the checks: the steps, their screenshots, and what they printed."""

    def __init__(self, base_url: str, screenshots: Path) -> None:
        self.base_url = base_url.rstrip("/")
        self.screenshots = screenshots
        self.screenshots.mkdir(parents=True, exist_ok=True)
        self.number = 0
        self.passed: list[str] = []

    def url(self, path: str) -> str:
        return self.base_url + path

    @contextmanager
    def step(self, name: str, driver: Optional[WebDriver]) -> Iterator[None]:
        """Runs one step; on success a screenshot, on failure one too, the page's HTML, and a message saying where."""
        self.number += 1
        label = f"{self.number:02d}-{name}"
        started = time.monotonic()
        print(f"step {label} ...", flush=True)
        try:
            yield
        except Exception as error:
            if driver is not None:
                self.capture(driver, f"{label}-failed", html=True)
            where = describe_page(driver) if driver is not None else ""
            if isinstance(error, StepFailure):
                reason = str(error)
            elif isinstance(error, WebDriverException):
                # The driver's message, and where in this script: its stack trace is the browser's, not ours.
                ours = [
                    frame
                    for frame in traceback.extract_tb(error.__traceback__)
                    if frame.filename == __file__ and frame.name not in HELPERS
                ]
                line = f" (console_test.py line {ours[-1].lineno}: {ours[-1].line})" if ours else ""
                reason = f"{(error.msg or type(error).__name__).splitlines()[0]}{line}"
            else:
                reason = "".join(traceback.format_exception(error)).rstrip()
            raise StepFailure(f"step {label} failed: {reason}{where}") from error
        if driver is not None:
            self.capture(driver, label)
        self.passed.append(label)
        print(f"step {label} passed ({time.monotonic() - started:.1f} s)", flush=True)

    def capture(self, driver: WebDriver, label: str, html: bool = False) -> None:
        try:
            driver.save_screenshot(str(self.screenshots / f"{label}.png"))
            if html:
                (self.screenshots / f"{label}.html").write_text(driver.page_source, encoding="utf-8")
        except WebDriverException as error:
            print(f"  (no screenshot for {label}: {error.msg})", flush=True)


def describe_page(driver: WebDriver) -> str:
    try:
        text = driver.find_element(By.TAG_NAME, "body").text
    except WebDriverException:
        text = ""
    try:
        url = driver.current_url
        title = driver.title
    except WebDriverException:
        return ""
    snippet = " ".join(text.split())[:400]
    return f"\n  at {url} (title {title!r})\n  page text: {snippet!r}"


# Frames a failure's line is not reported from: the step's own line says more than the wait's.
HELPERS = {"wait", "element", "found", "wait_for_path", "wait_with_reload", "reloaded"}

# While a page is replaced, its elements go stale and its scripts lose their context: a wait tries again.
TRANSIENT = (NoSuchElementException, StaleElementReferenceException, JavascriptException)


def wait(driver: WebDriver, seconds: float, condition: Callable[[WebDriver], object], message: str) -> object:
    """An explicit wait (WebDriverWait): the first truthy value of `condition`, or a failure saying `message`."""
    return WebDriverWait(driver, seconds, poll_frequency=0.1, ignored_exceptions=TRANSIENT).until(condition, message)


def path_of(driver: WebDriver) -> str:
    return urllib.parse.urlsplit(driver.current_url).path


def wait_for_path(driver: WebDriver, path: str, what: str, seconds: float = PAGE_SECONDS) -> None:
    wait(
        driver,
        seconds,
        lambda d: path_of(d) == path and d.execute_script("return document.readyState") == "complete",
        f"{what}: expected to land on {path}, still at {driver.current_url}",
    )


def element(driver: WebDriver, selector: str, what: str, seconds: float = PAGE_SECONDS):
    """The element `selector` names, waited for; the failure names the selector the console's templates must have."""

    def found(d: WebDriver):
        elements = d.find_elements(By.CSS_SELECTOR, selector)
        return elements[0] if elements else False

    return wait(driver, seconds, found, f"{what}: no element matches {selector!r}")


def comments(driver: WebDriver) -> list:
    return driver.find_elements(By.CSS_SELECTOR, "ol#thread li.comment")


def wait_with_reload(
    driver: WebDriver, seconds: float, condition: Callable[[WebDriver], object], message: str
) -> object:
    """Reloads the page until `condition` holds (for what the issue allows to need a reload)."""

    def reloaded(d: WebDriver):
        value = condition(d)
        if value:
            return value
        d.refresh()
        return condition(d)

    return WebDriverWait(driver, seconds, poll_frequency=0.5, ignored_exceptions=TRANSIENT).until(reloaded, message)


def no_alert(driver: WebDriver, what: str) -> None:
    try:
        alert = driver.switch_to.alert
        text = alert.text
        alert.dismiss()
    except NoAlertPresentException:
        return
    raise StepFailure(f"{what}: an alert opened ({text!r}): script in customer content ran")


def queue_keys(driver: WebDriver) -> list[str]:
    rows = driver.find_elements(By.CSS_SELECTOR, "table#queue tr.request")
    return [row.get_attribute("data-key") or "" for row in rows]


def queue_summary(driver: WebDriver, key: str) -> Optional[str]:
    cells = driver.find_elements(By.CSS_SELECTOR, f'table#queue tr.request[data-key="{key}"] td.summary')
    return cells[0].text.strip() if cells else None


def queue_row(driver: WebDriver, summary: str):
    """The queue's row whose summary is `summary` (keys are not assumed beyond SD-1)."""
    for row in driver.find_elements(By.CSS_SELECTOR, "table#queue tr.request"):
        cells = row.find_elements(By.CSS_SELECTOR, "td.summary")
        if cells and cells[0].text.strip() == summary:
            return row
    return False


# MARK: - Mail


class Mail:
    """The customer's side: mail into the support address by SMTP, the customer's inbox read by IMAP."""

    def __init__(self, smtp_port: int, imap_port: int, customer: str, password: str, support: str) -> None:
        self.smtp_port = smtp_port
        self.imap_port = imap_port
        self.customer = customer
        self.password = password
        self.support = support
        self.domain = customer.rsplit("@", 1)[-1]

    def new_message(self, subject: str, to: Optional[str] = None) -> EmailMessage:
        message = EmailMessage(policy=email.policy.SMTP)
        message["From"] = email.utils.formataddr(("Carol Customer", self.customer))
        message["To"] = to or self.support
        message["Subject"] = subject
        message["Date"] = email.utils.formatdate(localtime=False)
        message["Message-ID"] = email.utils.make_msgid(domain=self.domain)
        return message

    def send(self, message: EmailMessage, to: Optional[list[str]] = None) -> None:
        """Plain SMTP to the test's OpenSMTPD on 127.0.0.1, which delivers into Dovecot (RFC 5321)."""
        recipients = to or [self.support]
        with smtplib.SMTP("127.0.0.1", self.smtp_port, local_hostname=self.domain, timeout=30) as smtp:
            refused = smtp.sendmail(self.customer, recipients, message.as_bytes())
        check(not refused, f"OpenSMTPD refused recipients {refused}")

    def inbox(self) -> list[email.message.EmailMessage]:
        """Every message in the customer's INBOX, oldest first, read without setting \\Seen (RFC 3501 §6.4.5)."""
        with imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30) as imap:
            imap.login(self.customer, self.password)
            imap.select("INBOX", readonly=True)
            status, data = imap.uid("SEARCH", None, "ALL")
            check(status == "OK", f"IMAP SEARCH failed: {data}")
            messages = []
            for uid in data[0].split():
                status, parts = imap.uid("FETCH", uid, "(BODY.PEEK[])")
                check(status == "OK", f"IMAP FETCH {uid!r} failed: {parts}")
                raw = next(part[1] for part in parts if isinstance(part, tuple))
                messages.append(email.message_from_bytes(raw, policy=email.policy.default))
            imap.logout()
        return messages

    def wait_for(self, predicate: Callable[[email.message.EmailMessage], bool], what: str, seconds: float):
        """The first inbox message `predicate` accepts; polls the inbox (explicit, bounded) until it arrives."""
        deadline = time.monotonic() + seconds
        seen = 0
        while True:
            messages = self.inbox()
            seen = len(messages)
            for message in messages:
                if predicate(message):
                    return message
            if time.monotonic() >= deadline:
                raise StepFailure(f"{what}: not in {self.customer}'s inbox after {seconds} s ({seen} messages there)")
            time.sleep(0.5)


def text_of(message: email.message.EmailMessage) -> str:
    """A message's text: its text/plain part, else its text/html part, decoded."""
    body = message.get_body(preferencelist=("plain", "html"))
    return body.get_content() if body is not None else ""


# MARK: - The console's checks


class ConsoleChecks:
    """The checks of issue 12's browser test, in order; each is one step with a screenshot."""

    def __init__(self, args: argparse.Namespace, run: Run, chromium: str, chromedriver: str) -> None:
        self.args = args
        self.run = run
        self.chromium = chromium
        self.chromedriver = chromedriver
        self.mail = Mail(args.smtp_port, args.imap_port, args.customer, args.customer_password, args.support)
        self.tag = uuid.uuid4().hex[:8]
        self.subject = f"Printer on floor 3 is jammed {self.tag}"
        self.description = f"The printer shows error E42 ({self.tag})."
        self.driver: Optional[WebDriver] = None

    def all(self) -> None:
        with self.run.step("console-answers", None):
            wait_until_serving(self.run.url(LOGIN_PATH), PAGE_SECONDS)
        self.driver = start_browser(self.chromium, self.chromedriver, "en-US")
        try:
            self.sign_in()
            self.live_queue()
            self.open_request()
            notification = self.public_reply()
            self.customer_reply(notification)
            self.internal_note()
            self.hostile_mail()
            self.csrf()
            self.japanese()
            if self.args.admin:
                self.admin_pages()
            self.sign_out()
        finally:
            self.driver.quit()

    def sign_in_as(self, driver: WebDriver, agent: str, password: str) -> None:
        form = element(driver, "form#login", "the sign-in page")
        form.find_element(By.CSS_SELECTOR, "input#email").send_keys(agent)
        form.find_element(By.CSS_SELECTOR, "input#password").send_keys(password)
        form.find_element(By.CSS_SELECTOR, "button#sign-in").click()
        wait_for_path(driver, QUEUE_PATH, f"signing in as {agent}")

    def sign_in(self) -> None:
        driver = self.driver
        with self.run.step("signed-out-root-is-login", driver):
            driver.get(self.run.url("/"))
            wait_for_path(driver, LOGIN_PATH, "GET / signed out")
            element(driver, "form#login input#email", "the sign-in form")
        with self.run.step("sign-in-lands-on-queue", driver):
            self.sign_in_as(driver, self.args.agent, self.args.agent_password)
            element(driver, "table#queue", "the queue page")

    def live_queue(self) -> None:
        driver = self.driver
        with self.run.step("new-mail-appears-in-queue-without-reload", driver):
            marker = f"marker-{self.tag}"
            driver.execute_script("window.__consoleTestMarker = arguments[0];", marker)
            origin = driver.execute_script("return performance.timeOrigin;")
            check(
                not driver.find_elements(By.CSS_SELECTOR, 'tr.request[data-key="SD-1"]'),
                "SD-1 is in the queue before the customer's mail was sent: the project was not empty",
            )
            message = self.mail.new_message(self.subject)
            message.set_content(self.description + "\n")
            self.mail.send(message)
            sent = time.monotonic()
            row = element(
                driver,
                'table#queue tr.request[data-key="SD-1"]',
                f"the mailed request within {LIVE_QUEUE_SECONDS} s of sending, without a reload",
                seconds=LIVE_QUEUE_SECONDS,
            )
            print(f"  SD-1 appeared {time.monotonic() - sent:.1f} s after the mail was sent", flush=True)
            still = driver.execute_script("return window.__consoleTestMarker;")
            check(
                still == marker and driver.execute_script("return performance.timeOrigin;") == origin,
                "the queue page was reloaded or navigated (the marker set on window before the mail is gone); "
                "a new request must appear without a reload (a meta refresh is a reload)",
            )
            summary = row.find_element(By.CSS_SELECTOR, "td.summary").text.strip()
            check(summary == self.subject, f"SD-1's td.summary is {summary!r}, expected the subject {self.subject!r}")

    def open_request(self) -> None:
        driver = self.driver
        with self.run.step("request-page", driver):
            driver.find_element(By.CSS_SELECTOR, 'tr.request[data-key="SD-1"] a').click()
            wait_for_path(driver, "/requests/SD-1", "clicking SD-1 in the queue")
            summary = element(driver, "h1#summary", "the request page").text.strip()
            check(summary == self.subject, f"h1#summary is {summary!r}, expected {self.subject!r}")
            thread = comments(driver)
            check(len(thread) >= 1, "ol#thread has no li.comment (the customer's mail should open the thread)")
            check(
                self.description in element(driver, "ol#thread", "the thread").text,
                f"the mail's body {self.description!r} is not in ol#thread",
            )

    def post_reply(self, body: str, kind: str) -> None:
        driver = self.driver
        form = element(driver, "form#reply", "the reply form")
        select = Select(form.find_element(By.CSS_SELECTOR, "select#reply-kind"))
        values = [option.get_attribute("value") for option in select.options]
        check(
            "public" in values and "internal" in values, f"select#reply-kind offers {values}, not public and internal"
        )
        select.select_by_value(kind)
        form.find_element(By.CSS_SELECTOR, "textarea#reply-body").send_keys(body)
        before = len(comments(driver))
        form.find_element(By.CSS_SELECTOR, "button#reply-send").click()
        wait(
            driver,
            PAGE_SECONDS,
            lambda d: path_of(d) == "/requests/SD-1"
            and d.execute_script("return document.readyState") == "complete"
            and len(comments(d)) > before
            and any(body in comment.text for comment in comments(d)),
            f"after sending the {kind} reply, /requests/SD-1 should show it in ol#thread",
        )

    def public_reply(self) -> email.message.EmailMessage:
        driver = self.driver
        self.public_text = f"We are on it, {self.tag}."
        with self.run.step("public-reply", driver):
            select = Select(element(driver, "form#reply select#reply-kind", "the reply form"))
            default = select.first_selected_option.get_attribute("value")
            check(
                default == "public",
                f"select#reply-kind defaults to {default!r}; replying to the customer is the default",
            )
            self.post_reply(self.public_text, "public")
            posted = next(c for c in comments(driver) if self.public_text in c.text)
            check(
                "internal" not in (posted.get_attribute("class") or "").split(),
                "the public reply is shown with class internal",
            )
        with self.run.step("customer-receives-reply", None):
            notification = self.mail.wait_for(
                lambda m: self.public_text in text_of(m), "the notification of the public reply", MAIL_SECONDS
            )
            check(notification["Message-ID"] is not None, "the notification has no Message-ID")
            check(notification["Reply-To"] is not None, "the notification has no Reply-To")
            self.inbox_count = len(self.mail.inbox())
        return notification

    def customer_reply(self, notification: email.message.EmailMessage) -> None:
        driver = self.driver
        self.reply_text = f"Thanks, it prints again ({self.tag})."
        with self.run.step("customer-reply-in-thread", driver):
            reply_to = [address for _, address in email.utils.getaddresses(notification.get_all("Reply-To", []))]
            check(bool(reply_to), f"the notification's Reply-To {notification['Reply-To']!r} holds no address")
            message_id = notification["Message-ID"].strip()
            references = " ".join(filter(None, [(notification["References"] or "").strip(), message_id]))
            subject = notification["Subject"] or self.subject
            reply_subject = subject if subject.lower().startswith("re:") else f"Re: {subject}"
            reply = self.mail.new_message(reply_subject, ", ".join(reply_to))
            # RFC 5322 §3.6.4: a reply names its parent in In-Reply-To and the chain in References.
            reply["In-Reply-To"] = message_id
            reply["References"] = references
            reply.set_content(
                f"{self.reply_text}\n\nOn {notification['Date']}, {notification['From']} wrote:\n> {self.public_text}\n"
            )
            self.mail.send(reply, to=reply_to)
            wait_with_reload(
                driver,
                MAIL_SECONDS,
                lambda d: any(self.reply_text in comment.text for comment in comments(d)),
                f"the customer's reply {self.reply_text!r} in SD-1's thread",
            )

    def internal_note(self) -> None:
        driver = self.driver
        note = f"Internal: check the toner, {self.tag}."
        with self.run.step("internal-note-shaded", driver):
            self.post_reply(note, "internal")
            shown = [c for c in comments(driver) if note in c.text]
            check(
                "internal" in (shown[0].get_attribute("class") or "").split(),
                f"the internal note is shown without class internal (class={shown[0].get_attribute('class')!r})",
            )
            public = [c for c in comments(driver) if self.public_text in c.text]
            check(
                bool(public) and "internal" not in (public[0].get_attribute("class") or "").split(),
                "the public reply carries class internal too",
            )
        with self.run.step("internal-note-not-mailed", driver):
            # Notifications leave in order: once a later public reply has arrived, the note would have too.
            later = f"One more thing, {self.tag}."
            self.post_reply(later, "public")
            self.mail.wait_for(lambda m: later in text_of(m), "the public reply after the internal note", MAIL_SECONDS)
            inbox = self.mail.inbox()
            leaked = [m["Subject"] for m in inbox if note in text_of(m)]
            check(not leaked, f"the internal note was mailed to the customer: {leaked}")
            check(
                len(inbox) == self.inbox_count + 1,
                f"the customer's inbox went from {self.inbox_count} to {len(inbox)} messages; "
                "only the later public reply should have been added",
            )

    def hostile_mail(self) -> None:
        driver = self.driver
        subject = "<script>window.__pwned=1</script>"
        # Markup without a "/": postdesk keeps only a file name's last path component (no directories from mail),
        # so a "</script>" would be cut to "script>.txt" before the console ever shows it.
        filename = '"><img src=x onerror="window.__pwned=3">.txt'
        with self.run.step("hostile-mail-inert-in-queue", driver):
            driver.get(self.run.url(QUEUE_PATH))
            element(driver, "table#queue", "the queue")
            known = set(queue_keys(driver))
            message = self.mail.new_message(subject)
            message.set_content('<img src=x onerror="window.__pwned=2">\n', subtype="html")
            message.add_attachment(b"plain text\n", maintype="text", subtype="plain", filename=filename)
            self.mail.send(message)
            key = wait_with_reload(
                driver,
                MAIL_SECONDS,
                lambda d: next((k for k in queue_keys(d) if k not in known), False),
                f"a new queue row for the mail whose subject is {subject!r}",
            )
            # Inert first: when markup got through, the row's text is not the subject, and the reason is this.
            self.inert(driver, "the queue")
            summary = queue_summary(driver, key)
            check(summary == subject, f"{key}'s td.summary shows {summary!r}; the subject's <script> must show as text")
        with self.run.step("hostile-mail-inert-on-request-page", driver):
            driver.get(self.run.url(f"/requests/{key}"))
            wait_for_path(driver, f"/requests/{key}", f"opening {key}")
            self.inert(driver, f"{key}'s page")
            summary = element(driver, "h1#summary", f"{key}'s page").text.strip()
            check(summary == subject, f"h1#summary shows {summary!r}; the subject's <script> must show as text")
            links = driver.find_elements(By.CSS_SELECTOR, "ul#attachments li a.attachment")
            names = [link.text.strip() for link in links]
            check(
                filename in names,
                f"ul#attachments li a.attachment shows {names}, expected the file name {filename!r} as text",
            )

    def inert(self, driver: WebDriver, where: str) -> None:
        # The load event waits for images, so an <img onerror> would have fired by readyState "complete".
        wait(driver, PAGE_SECONDS, lambda d: d.execute_script("return document.readyState") == "complete", where)
        no_alert(driver, where)
        pwned = driver.execute_script("return typeof window.__pwned === 'undefined' ? null : String(window.__pwned);")
        check(pwned is None, f"{where}: window.__pwned is {pwned}: script from a customer's mail ran")
        live = driver.execute_script(
            "return Array.from(document.querySelectorAll('script')).filter(s => s.text.includes('__pwned')).length"
            " + document.querySelectorAll('[onerror]').length;"
        )
        check(live == 0, f"{where}: {live} live script elements or onerror handlers from the customer's mail")

    def csrf(self) -> None:
        driver = self.driver
        with self.run.step("reply-without-csrf-token-is-refused", driver):
            driver.get(self.run.url("/requests/SD-1"))
            form = element(driver, "form#reply", "SD-1's reply form")
            fields: list[list[str]] = driver.execute_script(
                "return Array.from(new FormData(arguments[0]).entries()).map(e => [e[0], String(e[1])]);", form
            )
            names = [name for name, _ in fields]
            check("csrf" in names, f"form#reply has no field named csrf (fields: {names})")
            # The template names the fields; find those of textarea#reply-body and select#reply-kind by element.
            own = {
                "body": form.find_element(By.CSS_SELECTOR, "textarea#reply-body").get_attribute("name") or "",
                "kind": form.find_element(By.CSS_SELECTOR, "select#reply-kind").get_attribute("name") or "",
            }
            check(
                own["body"] in names and own["kind"] in names,
                f"textarea#reply-body or select#reply-kind has no name among the form's fields {names}",
            )
            action = urllib.parse.urljoin(driver.current_url, form.get_attribute("action") or driver.current_url)
            cookie = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
            before = len(comments(driver))
            forged = f"Forged without a token {self.tag}"
            status = post_form(action, self.reply_fields(fields, own, forged, drop_csrf=True), cookie)
            check(status == 403, f"POST {action} without the csrf field answered {status}, expected 403")
            driver.refresh()
            element(driver, "ol#thread", "SD-1's thread")
            check(
                len(comments(driver)) == before and not any(forged in c.text for c in comments(driver)),
                "the reply posted without a CSRF token was stored anyway",
            )
            # The same POST with the token goes through: the 403 was the missing token, not a malformed request.
            allowed = f"Posted with the token {self.tag}"
            status = post_form(action, self.reply_fields(fields, own, allowed, drop_csrf=False), cookie)
            check(status in (200, 302, 303), f"POST {action} with the csrf field answered {status}")
            driver.refresh()
            element(driver, "ol#thread", "SD-1's thread")
            check(
                any(allowed in c.text for c in comments(driver)),
                "the same reply with the CSRF token was not stored: the forged POST proves nothing",
            )

    @staticmethod
    def reply_fields(
        fields: list[list[str]], names: dict[str, str], body: str, drop_csrf: bool
    ) -> list[tuple[str, str]]:
        """The reply form's own fields as the browser would send them, made an internal note saying `body`."""
        values = {names["body"]: body, names["kind"]: "internal"}
        return [(name, values.get(name, value)) for name, value in fields if not (drop_csrf and name == "csrf")]

    def japanese(self) -> None:
        subject = f"日本語の件名 {self.tag}"
        ja = start_browser(self.chromium, self.chromedriver, "ja")
        try:
            with self.run.step("japanese-sign-in-page", ja):
                ja.get(self.run.url("/"))
                wait_for_path(ja, LOGIN_PATH, "GET / signed out, in Japanese")
                lang = ja.execute_script("return document.documentElement.getAttribute('lang');")
                check(lang == "ja", f"<html lang> is {lang!r} for Accept-Language ja, expected 'ja'")
                button = element(ja, "form#login button#sign-in", "the Japanese sign-in form").text.strip()
                check(button == "サインイン", f"button#sign-in says {button!r}, expected 'サインイン'")
            with self.run.step("japanese-queue", ja):
                self.sign_in_as(ja, self.args.ja_agent, self.args.ja_password)
                heading = element(ja, "h1", "the Japanese queue page").text
                check("キュー" in heading, f"the queue heading is {heading!r}, expected it to contain 'キュー'")
                check(
                    ja.execute_script("return document.documentElement.getAttribute('lang');") == "ja",
                    "the signed-in Japanese console's <html lang> is not ja",
                )
            with self.run.step("japanese-subject-intact", ja):
                message = self.mail.new_message(subject)
                message.set_content("プリンターが動きません。\n")
                self.mail.send(message)
                element(ja, "table#queue", "the Japanese queue")
                row = wait_with_reload(
                    ja, MAIL_SECONDS, lambda d: queue_row(d, subject), f"a queue row whose td.summary is {subject!r}"
                )
                key = row.get_attribute("data-key")
                row.find_element(By.CSS_SELECTOR, "a").click()
                wait_for_path(ja, f"/requests/{key}", f"opening {key}")
                shown = element(ja, "h1#summary", f"{key}'s page").text.strip()
                check(shown == subject, f"h1#summary is {shown!r}, expected the Japanese subject {subject!r}")
        finally:
            ja.quit()

    def admin_pages(self) -> None:
        """An agent has no Admin link and gets 403; an admin opens the channels, presses Test and sees the steps
        arrive (server-sent events) and the verdict."""
        driver = self.driver
        with self.run.step("agent-has-no-admin-pages", driver):
            driver.get(self.run.url(QUEUE_PATH))
            element(driver, "table#queue", "the queue page")
            check(not driver.find_elements(By.CSS_SELECTOR, "a#nav-admin"), "an agent sees the Admin link")
            driver.get(self.run.url("/admin/channels"))
            element(driver, "p#admin-only", "the admin-only refusal")
        admin = start_browser(self.chromium, self.chromedriver, "en-US")
        try:
            with self.run.step("admin-opens-channels", admin):
                admin.get(self.run.url("/"))
                wait_for_path(admin, LOGIN_PATH, "GET / signed out, as the admin")
                self.sign_in_as(admin, self.args.admin, self.args.admin_password)
                element(admin, "a#nav-admin", "the Admin link").click()
                wait_for_path(admin, "/admin/channels", "following the Admin link")
                element(admin, f'tr.channel[data-address="{self.args.support}"]', f"the row of {self.args.support}")
            with self.run.step("admin-test-shows-steps-as-they-arrive", admin):
                row = element(admin, f'tr.channel[data-address="{self.args.support}"]', "the channel's row")
                row.find_element(By.CSS_SELECTOR, "form.channel-test button").click()
                wait_for_path(admin, f"/admin/channels/{self.args.support}/test", "pressing Test")
                wait(
                    admin,
                    MAIL_SECONDS,
                    lambda d: d.find_element(By.ID, "run-result").get_attribute("class") in ("ok", "failed"),
                    "div#run-result to show the test's verdict",
                )
                steps = [li.text for li in admin.find_elements(By.CSS_SELECTOR, "ol#run-steps li.step")]
                verdict = admin.find_element(By.ID, "run-result")
                check(
                    verdict.get_attribute("class") == "ok",
                    f"the test failed: {verdict.text!r}; steps: {steps}",
                )
                check(len(steps) >= 4, f"only {len(steps)} steps arrived: {steps}")
                check(steps[0].startswith("\u2713 Connect to IMAP 127.0.0.1:"), f"the first step is {steps[0]!r}")
                check(
                    any(step.startswith(f"\u2713 Log in as {self.args.support}") for step in steps),
                    f"no passed login step among {steps}",
                )
                check(
                    any(step.startswith("\u2713 SMTP relay 127.0.0.1:") for step in steps),
                    f"no passed relay step among {steps}",
                )
                check("Every step passed." in verdict.text, f"div#run-result says {verdict.text!r}")
        finally:
            admin.quit()

    def sign_out(self) -> None:
        driver = self.driver
        with self.run.step("sign-out", driver):
            driver.get(self.run.url(QUEUE_PATH))
            element(driver, "form#sign-out button", "the sign-out button").click()
            wait_for_path(driver, LOGIN_PATH, "signing out")
        with self.run.step("signed-out-queue-redirects-to-login", driver):
            driver.get(self.run.url(QUEUE_PATH))
            wait_for_path(driver, LOGIN_PATH, f"GET {QUEUE_PATH} after signing out")


def wait_until_serving(url: str, seconds: float) -> None:
    """Returns once something answers HTTP at `url` (any status): the listener may open just after the socket."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.build_opener(NoRedirect).open(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except OSError as error:
            if time.monotonic() >= deadline:
                raise StepFailure(f"nothing answers HTTP at {url} after {seconds} s: {error}") from error
        time.sleep(0.2)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401 - urllib's signature
        return None


def post_form(url: str, fields: list[tuple[str, str]], cookie: str) -> int:
    """POSTs `fields` form-encoded with the browser's cookies, following no redirect; the status."""
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        method="POST",
    )
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=PAGE_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


# MARK: - Self-check: the tooling on a tiny page of our own


SELF_CHECK_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>self-check</title></head>
<body><h1 id="heading">{heading}</h1>
<table id="queue"><tbody></tbody></table>
<script>
setInterval(async () => {{
  const rows = await (await fetch('/rows')).json();
  const body = document.querySelector('#queue tbody');
  for (const key of rows) {{
    if (document.querySelector(`tr.request[data-key="${{key}}"]`)) continue;
    const row = document.createElement('tr');
    row.className = 'request';
    row.dataset.key = key;
    const cell = document.createElement('td');
    cell.className = 'summary';
    cell.textContent = 'row ' + key;
    row.appendChild(cell);
    body.appendChild(row);
  }}
}}, 250);
</script></body></html>
"""


class SelfCheckServer(http.server.ThreadingHTTPServer):
    rows: list[str] = []


class SelfCheckHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/rows":
            body = ("[" + ",".join(f'"{key}"' for key in self.server.rows) + "]").encode()
            content_type = "application/json"
        else:
            language = self.headers.get("Accept-Language", "")
            japanese = language.lower().startswith("ja")
            body = SELF_CHECK_PAGE.format(
                lang="ja" if japanese else "en", heading="キュー" if japanese else "Queue"
            ).encode()
            content_type = "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's name
        pass


def self_check(run: Run, chromium: str, chromedriver: str) -> None:
    """Chromium starts through chromedriver, pages load and screenshot, a row added by script is seen without a
    reload, and the Japanese context sends Accept-Language ja: the tooling the console's checks stand on."""
    server = SelfCheckServer(("127.0.0.1", 0), SelfCheckHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        driver = start_browser(chromium, chromedriver, "en-US")
        try:
            with run.step("self-check-page-loads", driver):
                driver.get(base + "/")
                heading = element(driver, "h1#heading", "the self-check page").text
                check(heading == "Queue", f"the English page's heading is {heading!r}")
            with run.step("self-check-row-without-reload", driver):
                driver.execute_script("window.__consoleTestMarker = 'kept';")
                server.rows.append("SD-1")
                element(driver, 'table#queue tr.request[data-key="SD-1"]', "the added row", LIVE_QUEUE_SECONDS)
                check(driver.execute_script("return window.__consoleTestMarker;") == "kept", "the page reloaded")
                check(queue_row(driver, "row SD-1") is not False, "queue_row does not find the row by its summary")
        finally:
            driver.quit()
        ja = start_browser(chromium, chromedriver, "ja")
        try:
            with run.step("self-check-japanese-context", ja):
                ja.get(base + "/")
                heading = element(ja, "h1#heading", "the Japanese self-check page").text
                check(heading == "キュー", f"the page saw no Accept-Language ja (heading {heading!r})")
                lang = ja.execute_script("return document.documentElement.getAttribute('lang');")
                check(lang == "ja", f"<html lang> is {lang!r}")
        finally:
            ja.quit()
    finally:
        server.shutdown()
    for label in run.passed:
        shot = run.screenshots / f"{label}.png"
        check(shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"no PNG screenshot {shot}")


# MARK: - Main


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--self-check", action="store_true", help="drive a tiny page of our own, not postdesk")
    parser.add_argument("--base-url", help="the console, e.g. http://127.0.0.1:8080")
    parser.add_argument("--smtp-port", type=int, help="OpenSMTPD on 127.0.0.1 (plain SMTP) for the customer's mail")
    parser.add_argument("--imap-port", type=int, help="Dovecot IMAP on 127.0.0.1 for the customer's inbox")
    parser.add_argument("--support", help="the support address (the IMAP channel of project SD)")
    parser.add_argument("--customer", help="the customer's address")
    parser.add_argument("--customer-password", help="the customer's IMAP password")
    parser.add_argument("--agent", help="an English agent's email")
    parser.add_argument("--agent-password")
    parser.add_argument("--ja-agent", help="a Japanese agent's email")
    parser.add_argument("--ja-password")
    parser.add_argument("--admin", help="an admin's email: the admin pages are checked too")
    parser.add_argument("--admin-password")
    parser.add_argument("--screenshots", required=True, help="directory for the screenshots")
    parser.add_argument("--chromium", help="the browser (default: chromium on PATH)")
    parser.add_argument("--chromedriver", help="the driver (default: chromedriver on PATH)")
    parser.add_argument(
        "--time-limit", type=int, default=210, help="seconds for the whole run; then the step fails and browsers quit"
    )
    args = parser.parse_args(argv)
    if not args.self_check:
        needed = [
            "base_url", "smtp_port", "imap_port", "support", "customer", "customer_password",
            "agent", "agent_password", "ja_agent", "ja_password",
        ]
        missing = ["--" + name.replace("_", "-") for name in needed if getattr(args, name) in (None, "")]
        if missing:
            parser.error("missing " + " ".join(missing))
    return args


def end_in_time(seconds: int) -> None:
    """A run that overstays `seconds`, or gets SIGTERM, fails the running step, so the browsers still quit.

    A parent may have started us with its signals blocked (a test runner's thread mask is inherited across exec,
    and then so would chromedriver and Chromium): unblock them first."""

    def stop(signum: int, _frame) -> None:
        raise StepFailure(f"stopped by {signal.Signals(signum).name} (time limit {seconds} s)")

    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)


def main(argv: list[str]) -> int:
    args = arguments(argv)
    end_in_time(args.time_limit)
    chromium = find_binary(args.chromium, ["chromium", "chromium-browser"])
    chromedriver = find_binary(args.chromedriver, ["chromedriver"])
    if chromium is None or chromedriver is None:
        print(
            "console_test: chromium or chromedriver not found; run scripts/install-deps.sh "
            "(Debian packages chromium and chromium-driver)",
            file=sys.stderr,
        )
        return 2
    run = Run(args.base_url or "http://127.0.0.1", Path(args.screenshots))
    started = time.monotonic()
    try:
        if args.self_check:
            self_check(run, chromium, chromedriver)
        else:
            ConsoleChecks(args, run, chromium, chromedriver).all()
    except StepFailure as failure:
        print(f"console_test: FAILED {failure}", flush=True)
        print(f"console_test: {len(run.passed)} steps passed before it; screenshots in {run.screenshots}", flush=True)
        return 1
    print(f"console_test: all {len(run.passed)} steps passed in {time.monotonic() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
