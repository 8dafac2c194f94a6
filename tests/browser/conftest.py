"""Headless Chromium (Debian's `chromium` + `chromium-driver`) driving the admin served by
pytest-django's `live_server`, 1366 px wide. Screenshots of each step go to
`artifacts/admin-screenshots/` (or `$ADMIN_SCREENSHOTS_DIR`)."""

import os
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
WIDTH, HEIGHT = 1366, 900
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    f"--window-size={WIDTH},{HEIGHT}",
]
SCREENSHOTS = Path(
    os.environ.get(
        "ADMIN_SCREENSHOTS_DIR",
        Path(__file__).resolve().parents[2] / "artifacts" / "admin-screenshots",
    )
)


class Browser:
    """A thin helper over the WebDriver: open admin pages, click, read, take screenshots."""

    def __init__(self, driver, base_url: str, name: str):
        self.driver = driver
        self.base_url = base_url
        self.folder = SCREENSHOTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.shots = 0

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str = "body") -> str:
        return self.find(css).text

    def click_link(self, text: str) -> None:
        self.click_and_wait(self.driver.find_element(By.LINK_TEXT, text))

    def click_and_wait(self, element) -> None:
        """Click a link or submit button and wait until the page it leads to has loaded."""
        self.driver.execute_script("document.body.dataset.stale = 'yes';")
        element.click()
        self._wait_for_next_page()

    def screenshot(self, step: str) -> Path:
        self.shots += 1
        path = self.folder / f"{self.shots:02d}-{step}.png"
        self.driver.save_screenshot(str(path))
        return path

    def sign_in(self, username: str, password: str) -> None:
        self.open("/admin/login/")
        self.find("#id_username").send_keys(username)
        self.find("#id_password").send_keys(password)
        self.click_and_wait(self.find("input[type=submit]"))

    def run_and_wait_for_next_page(self, script: str, *args) -> None:
        """Run `script` (which submits a form) and wait until the next page has loaded."""
        self.driver.execute_script("document.body.dataset.stale = 'yes';" + script, *args)
        self._wait_for_next_page()

    def search(self, text: str) -> None:
        """Type `text` in the changelist's search box, press Enter, wait for the results."""
        self.driver.execute_script("document.body.dataset.stale = 'yes';")
        self.find("#searchbar").send_keys(text + "\n")
        self._wait_for_next_page()

    def _wait_for_next_page(self) -> None:
        WebDriverWait(self.driver, 10).until(
            lambda driver: driver.execute_script(
                "return document.readyState === 'complete' && !document.body.dataset.stale"
            )
        )

    def horizontal_overflow(self) -> int:
        """How many pixels the page, or the changelist's results box, is wider than what
        shows (0: no horizontal scroll, every column in view)."""
        return self.driver.execute_script(
            "const boxes = [document.documentElement, ...document.querySelectorAll('.results')];"
            "return Math.max(...boxes.map(box => box.scrollWidth - box.clientWidth));"
        )

    def failed_requests(self) -> list[str]:
        """Console errors since the last call, e.g. "Failed to load resource: ... 404"."""
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")
            if entry["level"] == "SEVERE"
        ]


@pytest.fixture(scope="session")
def chromium():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_window_size(WIDTH, HEIGHT)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium, live_server, request):
    chromium.delete_all_cookies()
    yield Browser(chromium, live_server.url, request.node.name)
    chromium.delete_all_cookies()
