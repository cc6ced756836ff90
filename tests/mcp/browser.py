"""The user's part of the MCP end-to-end suite, done by a real headless browser: Debian's `chromium`, driven through
Debian's `chromedriver` with Selenium. It opens the authorization URL an SDK handed over, signs in on Keycloak's
login page, reads and screenshots the consent page (or the error page), approves, and reports where it landed.

The driver and browser binaries are named explicitly (/usr/bin/chromedriver, /usr/bin/chromium), so Selenium
Manager never looks for, let alone downloads, anything. Headless, --no-sandbox (the suite runs as root in a user
namespace), a throwaway profile, background networking off. Every wait is bounded.
"""
import os
import re
import shutil
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PAGE_TIMEOUT = 30.0


class Outcome:
    """What one authorization did in the browser: pages seen (login, consent, error), the consent page's title,
    screenshots, and the URL it ended on (the SDK's callback, or still Keycloak)."""

    def __init__(self):
        self.pages = []
        self.consent_title = None
        self.error_text = None
        self.screenshots = []
        self.final_url = None
        self.callback_reached = False
        #: Seconds from opening the authorization URL to Keycloak's login page (where the document is resolved).
        self.authorize_page_s = None

    def as_dict(self):
        return {"pages": self.pages, "consent_title": self.consent_title, "error_text": self.error_text,
                "screenshots": self.screenshots, "final_url": self.final_url,
                "callback_reached": self.callback_reached, "authorize_page_s": self.authorize_page_s}


class HeadlessChromium:
    def __init__(self, work):
        self.work = work
        self.profile = tempfile.mkdtemp(prefix="chromium-", dir=work)
        opts = Options()
        opts.binary_location = CHROMIUM
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                  "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-extensions", "--window-size=1200,1000",
                  f"--user-data-dir={self.profile}"):
            opts.add_argument(a)
        service = Service(executable_path=CHROMEDRIVER, log_output=os.path.join(work, "chromedriver.log"))
        self.driver = webdriver.Chrome(service=service, options=opts)
        self.driver.set_page_load_timeout(PAGE_TIMEOUT)
        self.version = self.driver.capabilities.get("browserVersion")

    def close(self):
        try:
            self.driver.quit()
        except WebDriverException:
            pass
        proc = getattr(self.driver.service, "process", None)
        if proc and proc.poll() is None:
            proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def fresh(self):
        """Forget every cookie, so each authorization starts signed out (as a first login does)."""
        self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})

    def authorize(self, url, callback_prefix, keycloak_base, shot_prefix, username="alice",
                  password="alice-password", approve=True):
        """Opens `url`, signs in, screenshots and approves the consent page; stops on reaching `callback_prefix`,
        on a Keycloak error page, or after PAGE_TIMEOUT seconds without progress."""
        out = Outcome()
        d = self.driver
        self.fresh()
        opened = time.time()
        d.get(url)
        deadline = time.time() + PAGE_TIMEOUT
        while time.time() < deadline:
            current = d.current_url
            if current.startswith(callback_prefix):
                out.callback_reached = True
                break
            if not current.startswith(keycloak_base):
                time.sleep(0.1)
                continue
            page = d.page_source
            if _has(d, "kc-form-login") and "login" not in out.pages:
                out.authorize_page_s = round(time.time() - opened, 3)
                out.pages.append("login")
                self.shot(out, f"{shot_prefix}-login")
                d.find_element(By.ID, "username").send_keys(username)
                d.find_element(By.ID, "password").send_keys(password)
                d.find_element(By.ID, "kc-login").click()
                deadline = time.time() + PAGE_TIMEOUT
                continue
            if "Grant Access to" in page and "consent" not in out.pages:
                out.pages.append("consent")
                out.consent_title = consent_title(page)
                self.shot(out, f"{shot_prefix}-consent")
                if not approve:
                    break
                d.find_element(By.CSS_SELECTOR, "[name=accept]").click()
                deadline = time.time() + PAGE_TIMEOUT
                continue
            if _has(d, "kc-error-message"):
                out.pages.append("error")
                out.error_text = error_text(d)
                self.shot(out, f"{shot_prefix}-error")
                break
            time.sleep(0.1)
        out.final_url = d.current_url
        return out

    def shot(self, out, name):
        path = os.path.join(self.work, "screenshots", f"{name}.png")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.driver.save_screenshot(path)
        out.screenshots.append(path)


def _has(driver, element_id):
    return bool(driver.find_elements(By.ID, element_id))


def consent_title(page):
    """The consent page's question, which names the client and its host ("Grant Access to NAME (HOST)")."""
    import html
    m = re.search(r"Grant Access to\s*([^<]*)", html.unescape(page))
    return m.group(0).strip() if m else ""


def error_text(driver):
    for sel in ("#kc-error-message", ".kc-feedback-text", ".pf-v5-c-alert__title", "#kc-page-title"):
        found = driver.find_elements(By.CSS_SELECTOR, sel)
        if found and found[0].text.strip():
            return found[0].text.strip()[:300]
    return driver.find_element(By.TAG_NAME, "body").text.strip()[:300]
