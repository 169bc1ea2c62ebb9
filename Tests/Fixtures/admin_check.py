"""Drives the admin panel in headless Chromium through each of its flows, saving a screenshot of each.

Usage: admin_check.py URL TOKEN NPC_NAME SCREENSHOT_FOLDER, or admin_check.py --dead-letter URL TOKEN
SCREENSHOT_FOLDER for the retry of a dead-lettered job. Prints a JSON report."""
import json
import os
import sys

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from deadline import deadline
from ui_check import browser


def console_errors(driver):
    # Refused requests (401s, 422s) are logged by the browser too; anything else is a script error.
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]]


def main(url, token, npc_name, folder):
    report = {}
    driver = browser(1280, 1000)
    shot = lambda name: driver.save_screenshot(os.path.join(folder, f"admin-{name}.png"))
    css = lambda selector: driver.find_elements(By.CSS_SELECTOR, selector)
    try:
        # The page redraws as it polls: an element found a moment ago may have been replaced.
        wait = WebDriverWait(driver, 120, ignored_exceptions=[StaleElementReferenceException])
        # Signed out: the page says what it needs and marks the field.
        driver.get(f"{url}/admin/")
        wait.until(lambda d: d.find_element(By.ID, "signin").is_displayed())
        report["signed_out"] = driver.find_element(By.ID, "signin").text
        report["token_marked"] = "needed" in driver.find_element(By.ID, "token").get_attribute("class")
        shot("signed-out")

        # Overview: every component with its badge, and charts drawn from the monitor's samples.
        driver.get(f"{url}/admin/#token={token}")
        driver.refresh()
        wait.until(lambda d: css("#components .component"))
        # The page redraws every 5 s: what it shows is read in one script, never element by element.
        report["components"] = driver.execute_script(
            "return Object.fromEntries([...document.querySelectorAll('#components .component')]"
            ".map(e => [e.dataset.name, e.querySelector('.badge').textContent.toLowerCase()]))")
        wait.until(lambda d: int(d.find_element(By.ID, "chart-conversations").get_attribute("data-points") or 0) >= 2)
        report["chart_points"] = {c: int(driver.find_element(By.ID, c).get_attribute("data-points") or 0)
                                  for c in ("chart-tokens", "chart-ttft", "chart-queue", "chart-conversations")}
        report["overall"] = driver.find_element(By.ID, "overall").text.lower()
        shot("overview")

        # Review: each pending analysis as a diff; an edit that breaks a rule is refused beside the field,
        # fixed and approved; the other is rejected.
        driver.find_element(By.CSS_SELECTOR, "[data-tab=review]").click()
        wait.until(lambda d: len(css("#review-list .analysis")) >= 2)
        report["review_cards"] = len(css("#review-list .analysis"))
        report["review_badge"] = driver.find_element(By.ID, "review-count").text
        report["diff_rows"] = len(css("#review-list .analysis:first-child .diff > div"))
        shot("review")
        first = css("#review-list .analysis")[0]
        first_id = first.get_attribute("data-analysis")
        first.find_element(By.CSS_SELECTOR, "[data-action=edit]").click()
        summary = first.find_element(By.CSS_SELECTOR, "[data-path=summary] textarea")
        original = summary.get_attribute("value")
        summary.clear()
        first.find_element(By.CSS_SELECTOR, "[data-action=save-approve]").click()
        error = wait.until(lambda d: first.find_element(By.CSS_SELECTOR, "[data-path=summary] .error").is_displayed()
                           and first.find_element(By.CSS_SELECTOR, "[data-path=summary] .error"))
        report["edit_error"] = error.text
        shot("review-error")
        summary.send_keys("Edited by the admin: " + original[:120])
        first.find_element(By.CSS_SELECTOR, "[data-action=save-approve]").click()
        wait.until(lambda d: not css(f"[data-analysis='{first_id}']"))
        css("#review-list .analysis")[0].find_element(By.CSS_SELECTOR, "[data-action=reject]").click()
        wait.until(lambda d: len(css("#review-list .analysis")) == report["review_cards"] - 2)
        report["approved"] = first_id

        # NPCs: an invalid value is shown beside its field; a valid edit saves a revision, which the
        # revisions view compares with the one before and can restore.
        driver.find_element(By.CSS_SELECTOR, "[data-tab=npcs]").click()
        button = wait.until(lambda d: [b for b in css("#npc-list button") if b.text.startswith(npc_name)])[0]
        button.click()
        age = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-path='background.age'] input"))
        age.clear()
        age.send_keys("-3")
        driver.find_element(By.CSS_SELECTOR, "[data-action=save]").click()
        age_error = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-path='background.age'] .error").is_displayed()
                               and d.find_element(By.CSS_SELECTOR, "[data-path='background.age'] .error"))
        report["field_error"] = age_error.text
        shot("npc-error")
        age.clear()
        age.send_keys("41")
        mood = driver.find_element(By.CSS_SELECTOR, "[data-path='current_status.mood'] input")
        mood.clear()
        mood.send_keys("hopeful")
        driver.find_element(By.CSS_SELECTOR, "[data-action=save]").click()
        saved = wait.until(lambda d: css("#npc-detail p.saved"))
        report["saved"] = saved[0].text
        driver.find_element(By.CSS_SELECTOR, "[data-view=revisions]").click()
        wait.until(lambda d: css(".compare .diff > div"))
        report["revision_diff"] = [d.text for d in css(".compare .diff > div")]
        shot("revisions")
        revisions_before = len(css(".revisions tbody tr"))
        css(".revisions [data-action=restore]")[0].click()
        wait.until(lambda d: len(css(".revisions tbody tr")) == revisions_before + 1)
        report["restored_change"] = css(".revisions tbody tr")[0].find_elements(By.TAG_NAME, "td")[1].text

        # Summary queue: the worker paused and resumed from the page; the jobs with their state.
        driver.find_element(By.CSS_SELECTOR, "[data-tab=queue]").click()
        wait.until(lambda d: css("#job-rows tr"))
        wait.until(lambda d: d.find_element(By.ID, "worker-state").text.lower() == "running")
        driver.find_element(By.ID, "worker-toggle").click()
        wait.until(lambda d: d.find_element(By.ID, "worker-state").text.lower() == "paused")
        report["job_states"] = driver.execute_script(
            "return [...document.querySelectorAll('#job-rows tr')].map(r => r.dataset.state)")
        report["job_counts"] = driver.execute_script(
            "return [...document.querySelectorAll('#job-counts .badge')].map(b => b.textContent)")
        shot("queue")
        driver.find_element(By.ID, "worker-toggle").click()
        wait.until(lambda d: d.find_element(By.ID, "worker-state").text.lower() == "running")
        report["worker_resumed"] = True

        # Models: status and a reload from the page.
        driver.find_element(By.CSS_SELECTOR, "[data-tab=models]").click()
        chat = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-model=chat]"))
        report["models"] = [c.get_attribute("data-model") for c in css("#model-cards [data-model]")]
        chat.find_element(By.CSS_SELECTOR, "[data-action=reload]").click()
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-model=chat] .badge").text.lower() == "resident")
        shot("models")

        # Alerts: every rule with its state.
        driver.find_element(By.CSS_SELECTOR, "[data-tab=alerts]").click()
        wait.until(lambda d: css("#rule-rows tr"))
        report["rules"] = driver.execute_script(
            "return Object.fromEntries([...document.querySelectorAll('#rule-rows tr')].map(r => [r.dataset.rule, r.dataset.state]))")
        shot("alerts")

        # A phone-sized window: nothing wider than the screen.
        driver.find_element(By.CSS_SELECTOR, "[data-tab=overview]").click()
        driver.set_window_size(390, 844)
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return window.innerWidth") <= 390)
        driver.execute_async_script("const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(done))")
        report["narrow_overflow"] = driver.execute_script(
            "return document.documentElement.scrollWidth > window.innerWidth + 1")
        shot("narrow")
        report["console_errors"] = console_errors(driver)
    finally:
        driver.quit()
    print(json.dumps(report))


def dead_letter(url, token, folder):
    """The summary queue shows a dead-lettered job with its error; with the worker paused, Retry queues it again."""
    report = {}
    driver = browser(1280, 1000)
    shot = lambda name: driver.save_screenshot(os.path.join(folder, f"admin-{name}.png"))
    row = lambda state: driver.execute_script(
        "const r = document.querySelector(`#job-rows tr[data-state=${arguments[0]}]`);"
        "return r && {job: r.dataset.job, attempts: r.cells[2].textContent, error: r.querySelector('.error-text').textContent}",
        state)

    def click_retry(d):
        # A redraw between finding the button and clicking it leaves a stale element: the wait tries again.
        d.find_element(By.CSS_SELECTOR, "#job-rows tr[data-state=dead] [data-action=retry]").click()
        return True

    try:
        wait = WebDriverWait(driver, 120, ignored_exceptions=[StaleElementReferenceException])
        driver.get(f"{url}/admin/#token={token}")
        driver.refresh()
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-tab=queue]").is_displayed())
        driver.find_element(By.CSS_SELECTOR, "[data-tab=queue]").click()
        dead = wait.until(lambda d: row("dead"))
        report["dead"] = dead
        badges = "return [...document.querySelectorAll('#job-counts .badge')].map(b => b.textContent)"
        report["dead_badges"] = driver.execute_script(badges)
        shot("dead-letter")
        wait.until(lambda d: d.find_element(By.ID, "worker-state").text.lower() == "running")
        driver.find_element(By.ID, "worker-toggle").click()
        wait.until(lambda d: d.find_element(By.ID, "worker-state").text.lower() == "paused")
        wait.until(click_retry)
        report["retried"] = wait.until(lambda d: (r := row("queued")) and r["job"] == dead["job"] and r)
        report["retried_badges"] = driver.execute_script(badges)
        report["retry_buttons"] = len(driver.find_elements(By.CSS_SELECTOR, "#job-rows [data-action=retry]"))
        shot("retried")
        report["console_errors"] = console_errors(driver)
    finally:
        driver.quit()
    print(json.dumps(report))


if __name__ == "__main__":
    # Each flow's waits allow 120 s, yet all of it takes a minute or two; chromedriver's replies get 120 s,
    # as Chromium may start slowly on a busy machine.
    if sys.argv[1] == "--dead-letter":
        deadline(300, "the dead-letter retry in the admin panel", per_operation=120)
        dead_letter(*sys.argv[2:5])
    else:
        deadline(480, "the admin panel's flows", per_operation=120)
        main(*sys.argv[1:5])
