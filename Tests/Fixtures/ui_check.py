"""Drives the chat UI in headless Chromium: load it, pick an NPC, send a message, watch the reply stream
in, and save a screenshot. Prints a JSON report."""
import json
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from deadline import deadline


def browser(width, height):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    # As root on a closed network: no sandbox, no background connections, a fresh profile.
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tempfile.mkdtemp()}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    # The page's console, for tests that check it logged no script error.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main(url, npc_name, screenshot, narrow_screenshot, token=None):
    report = {}
    driver = browser(1280, 900)
    try:
        # Generous: under a parallel test suite on 2 cores a reply can take minutes.
        wait = WebDriverWait(driver, 240)
        driver.get(url)
        if token:
            # Without the token the page says why it shows nothing; with it (as a link hands it over)
            # the player is who the token says, and cannot be anyone else.
            error = wait.until(lambda d: d.find_element(By.ID, "list-error").is_displayed()
                               and d.find_element(By.ID, "list-error"))
            report["token_marked"] = "needed" in driver.find_element(By.ID, "token").get_attribute("class")
            driver.save_screenshot(screenshot.replace(".png", "-signed-out.png"))
            report["without_token"] = error.text
            driver.get(f"{url}#token={token}")
            driver.refresh()
            player = wait.until(lambda d: d.find_element(By.ID, "user-id"))
            report["player"] = {"id": player.get_attribute("value"),
                                "read_only": player.get_attribute("readonly") is not None}
        report["title"] = driver.title
        wait.until(lambda d: d.find_element(By.ID, "connection").get_attribute("data-state") == "open")
        npc = wait.until(ready.element_to_be_clickable(
            (By.XPATH, f"//ul[@id='npc-list']//button[.//span[@class='name' and text()='{npc_name}']]")))
        report["listed"] = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#npc-list .name")]
        npc.click()
        wait.until(lambda d: d.find_element(By.ID, "npc-name").text == npc_name)
        report["status"] = {e.get_attribute("data-field"): e.find_element(By.TAG_NAME, "dd").text
                            for e in driver.find_elements(By.CSS_SELECTOR, "#npc-status > div")}
        report["traits"] = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#npc-traits span")]
        report["relationship"] = driver.find_element(By.ID, "npc-relationship").text

        # Record every change of the reply bubble as it happens (no sampling, so no speed can skip one):
        # its text must grow in steps while it is marked streaming, before it completes.
        bubble_css = "#messages .message.npc"
        driver.execute_script("""
            window.__lengths = []; window.__streaming = false;
            new MutationObserver(() => {
                const bubbles = document.querySelectorAll(arguments[0]);
                const bubble = bubbles[bubbles.length - 1];
                if (!bubble) return;
                const text = bubble.querySelector('.text').textContent;
                if (bubble.classList.contains('streaming') && text) {
                    window.__streaming = true;
                    const lengths = window.__lengths;
                    if (!lengths.length || lengths[lengths.length - 1] !== text.length) lengths.push(text.length);
                }
            }).observe(document.getElementById('messages'),
                       {subtree: true, childList: true, characterData: true, attributes: true});
        """, bubble_css)
        box = driver.find_element(By.ID, "message-input")
        box.send_keys("Hello! Tell me about the sea today.")
        driver.find_element(By.ID, "send-button").click()
        WebDriverWait(driver, 400).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, bubble_css)
            and d.find_elements(By.CSS_SELECTOR, bubble_css)[-1].get_attribute("data-complete") == "true")
        lengths = driver.execute_script("return window.__lengths")
        streaming_seen = driver.execute_script("return window.__streaming")
        bubble = driver.find_elements(By.CSS_SELECTOR, bubble_css)[-1]
        report["streamed_lengths"] = lengths
        report["streaming_seen"] = streaming_seen
        report["reply"] = bubble.find_element(By.CSS_SELECTOR, ".text").text
        report["complete"] = bubble.get_attribute("data-complete")
        usage = bubble.find_elements(By.CSS_SELECTOR, ".usage")
        report["usage"] = usage[0].text if usage else None
        report["user_bubble"] = driver.find_elements(By.CSS_SELECTOR, "#messages .message.user")[-1].text
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#past li"))
        report["past"] = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#past li")]
        driver.save_screenshot(screenshot)

        # A phone-sized window: one column, nothing wider than the screen.
        driver.set_window_size(390, 844)
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return window.innerWidth") <= 390)
        # Two animation frames: the relayout at the new width has been done.
        driver.execute_async_script("const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(done))")
        report["narrow_overflow"] = driver.execute_script(
            "return document.documentElement.scrollWidth > window.innerWidth + 1")
        driver.save_screenshot(narrow_screenshot)
    finally:
        driver.quit()
    print(json.dumps(report))


if __name__ == "__main__":
    # Its waits allow up to 400 s for a reply under a parallel suite, within a 15-minute suite; chromedriver's
    # replies get 120 s, as Chromium may start slowly on a busy machine.
    deadline(540, "the chat UI check", per_operation=120)
    main(*sys.argv[1:6])
