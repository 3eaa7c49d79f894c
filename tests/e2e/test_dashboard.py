#!/usr/bin/env python3
"""test_dashboard.py: the dashboard in a real browser (Debian's chromium, headless, driven by
chromium-driver through python3-selenium) against a daemon with firing alerts.

A file input reads a real /var/log/secure (tests/data/umm-secure/mylar/secure-20110710: 127
failed passwords from 59.108.33.66), plus eleven failed logins for a user name that is a
<script> and an <img onerror>: the rules make SshBruteForce fire for 59.108.33.66, UserBrute
fire for that user name, and SshProbe (a long `for`) pending. The daemon has http.token with
public_reads, so the page is read without the token and its forms ask for it.

Checked on the rendered page (document.body.innerText, not the HTML source): the alerts (firing
before pending, names, labels, values as the API gives them, severity), the attacker's user name
shown as text and never run, the rules with their sparkline SVG (when /api/rules answers), the
inputs and sinks (when /health gives them), no horizontal scrolling at phone width. Then the
silence form is filled and submitted (with the token), and /api/silences must hold that silence,
the alert's card then names it (silenced_by); its "expire" button ends it; the alert's page shows the explanation (when /api/alerts/{fp}
answers: the chart, the history, the lines that fed it) and the dashboard's own refusals hold
(a wrong token in the form is refused, and creates nothing). Then, on a second daemon
without public_reads, the browser reads the pages with HTTP Basic (the token as password) and
its expire form posts with those credentials.

Screenshots (desktop 1280 px and phone 390 px wide, and the alert page) go to the test's output
folder, printed at the start: test-output/dashboard/ beside the binary (in build/).

Without chromium, chromium-driver or python3-selenium the test is skipped with a message, except
under CI=true, where that is a failure (.ci/packages/dashboard.txt installs them).

usage: test_dashboard.py PATH/TO/logwarden
"""

import json
import os
import re
import secrets
import shutil
import sys
import time
import urllib.error
import urllib.request

import e2e

TOKEN = "dash-" + secrets.token_hex(12)
FIXTURE = os.path.join(e2e.DATA, "umm-secure", "mylar", "secure-20110710")
EVIL_USER = "<script>window.lwPwned=1</script><img/src=x/onerror=window.lwPwned=2>"

RULES = r"""
patterns:
  IP: '\d{1,3}(?:\.\d{1,3}){3}'
events:
  - name: ssh_failed
    match: 'Failed password for (?:invalid user )?(?<user>\S+) from (?<ip>%{IP}) port \d+'
alerts:
  - name: SshBruteForce
    event: ssh_failed
    group_by: [ip]
    window: 2m
    count: {above: 10}
    severity: critical
    labels: {team: security}
    annotations:
      summary: '{{ value }} failed ssh logins from {{ ip }} in 2m'
  - name: UserBrute
    event: ssh_failed
    group_by: [user]
    window: 2m
    count: {above: 10, where: 'user =~ "<.*"'}
    severity: warning
    annotations:
      summary: 'odd user name {{ user }}'
  - name: SshProbe
    event: ssh_failed
    group_by: [ip]
    window: 2m
    count: {above: 3}
    for: 1h
    severity: info
    annotations:
      summary: 'more than 3 failures from {{ ip }}'
"""


def need_browser():
    """(chromium, chromedriver) paths and the selenium module; None (and why) when missing."""
    missing = []
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or (
        "/usr/lib/chromium/chromedriver" if os.path.exists("/usr/lib/chromium/chromedriver")
        else None)
    if not chromium:
        missing.append("chromium")
    if not driver:
        missing.append("chromium-driver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        # Debian's python3-selenium, for a python3 that is not Debian's (pyenv, a venv).
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            import selenium  # noqa: F401,F811
        except ImportError:
            missing.append("python3-selenium")
    return chromium, driver, missing


def start_browser(chromium, driver, profile):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--no-default-browser-check", "--disable-extensions",
              "--window-size=1280,900", f"--user-data-dir={profile}", "--hide-scrollbars"):
        opts.add_argument(a)
    if os.geteuid() == 0:
        opts.add_argument("--no-sandbox")  # Chromium's sandbox refuses to run as root
    return webdriver.Chrome(service=Service(driver), options=opts)


def api(port, path, token=None):
    """(status, parsed JSON or None) of a GET."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            code, text = r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        code, text = e.code, e.read().decode("utf-8", "replace")
    except OSError:
        return None, None
    try:
        return code, json.loads(text)
    except ValueError:
        return code, None


def text_of(drv):
    return drv.execute_script("return document.body.innerText") or ""


def screenshot(drv, path, width):
    """A full-page screenshot at this CSS width (a phone: mobile emulation)."""
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": 900, "deviceScaleFactor": 1,
                         "mobile": width < 700})
    height = drv.execute_script("return Math.max(document.body.scrollHeight, "
                                "document.documentElement.scrollHeight)")
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": min(int(height), 6000), "deviceScaleFactor": 1,
                         "mobile": width < 700})
    drv.save_screenshot(path)
    print(f"     screenshot: {path}")


def navigate(drv, element):
    """Clicks element (a submit button, a link) and waits until the page it leads to has
    replaced this one (a click returns before the answer is loaded)."""
    from selenium.common.exceptions import StaleElementReferenceException
    old = drv.find_element("tag name", "html")
    element.click()

    def gone():
        try:
            old.tag_name
            return False
        except StaleElementReferenceException:
            return drv.execute_script("return document.readyState") == "complete"
    return e2e.wait_for(gone, 15, 0.1)


def card(drv, name):
    """The alert card (article) whose title link is name."""
    from selenium.webdriver.common.by import By
    for art in drv.find_elements(By.CSS_SELECTOR, "#alerts article.alert"):
        if art.find_elements(By.XPATH, f".//h3/a[normalize-space(.)='{name}']"):
            return art
    return None


def main():
    binary = e2e.binary_from_argv()
    t = e2e.Checks()
    try:
        run(binary, t)
    finally:
        t.finish()


def run(binary, t):
    chromium, driver, missing = need_browser()
    if missing:
        msg = f"needs {', '.join(missing)} (Debian packages; .ci/packages/dashboard.txt)"
        if os.environ.get("CI") == "true":
            t.check(False, f"the browser is installed under CI: {msg}")
            return
        print(f"SKIPPED: {msg}")
        return

    out = os.path.join(os.path.dirname(binary), "test-output", "dashboard")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    print(f"     output folder: {out}")

    os.environ["LW_E2E_DASH_TOKEN"] = TOKEN
    td = e2e.TempDir("dashboard")
    port = e2e.free_port()
    td.write("rules.yaml", RULES)
    log = td.join("secure.log")
    # The fixture in two parts a few seconds apart (the first 40 of the attacker's failures,
    # then the rest): the rule's value steps up on the charts.
    with open(FIXTURE, "rb") as f:
        lines = f.read().split(b"\n")
    cut, seen = len(lines), 0
    for i, line in enumerate(lines):
        seen += b"Failed password" in line and b"from 59.108.33.66 " in line
        if seen == 40:
            cut = i + 1
            break
    with open(log, "wb") as f:
        f.write(b"\n".join(lines[:cut]) + b"\n")
    rest = b"\n".join(lines[cut:]) + "".join(
        f"Jul 10 04:00:{i:02d} mylar sshd[99{i:02d}]: Failed password for {EVIL_USER} from "
        f"203.0.113.{i + 1} port 4{i:04d} ssh2\n" for i in range(11)).encode()
    td.write("logwarden.yaml", f"""state: state.db
rules: [rules.yaml]
http:
  listen: 127.0.0.1:{port}
  token: ${{LW_E2E_DASH_TOKEN}}
  public_reads: true
inputs:
  - name: auth
    type: file
    paths: [secure.log]
    start_at: beginning
sinks:
  - name: archive
    type: file
    path: alerts.jsonl
notify: {{group_wait: 0s}}
""")
    d = e2e.Daemon(binary, td.join("logwarden.yaml"), td.path)
    drv = None
    base = f"http://127.0.0.1:{port}"
    try:
        # The value the brute force must reach: its failed passwords in the fixture.
        fails = sum(1 for line in open(FIXTURE, encoding="utf-8", errors="replace")
                    if re.search(r"Failed password for .* from 59\.108\.33\.66 port", line))

        def firing():
            code, a = api(port, "/api/alerts")
            names = {(x.get("alert"), x.get("state")) for x in a or [] if isinstance(x, dict)}
            return a if {("SshBruteForce", "firing"), ("UserBrute", "firing"),
                         ("SshProbe", "pending")} <= names else None

        def brute_of(a):
            return next((x for x in a or [] if x.get("alert") == "SshBruteForce" and
                         (x.get("labels") or x.get("group") or {}).get("ip") == "59.108.33.66"),
                        None)
        first = e2e.wait_for(lambda: (lambda a: any(
            x.get("alert") == "SshBruteForce" and x.get("state") == "firing" for x in a or []))(
            api(port, "/api/alerts")[1]) or not d.alive(), 30, 0.2)
        t.check(first and d.alive(), "the first part of the fixture fires SshBruteForce",
                e2e.tail(d.stderr()))
        time.sleep(3)  # not a wait for a condition: the charts' step, seconds apart
        with open(log, "ab") as f:
            f.write(rest)
        alerts = e2e.wait_for(lambda: firing() or not d.alive(), 30, 0.2)
        if not t.check(isinstance(alerts, list), "the daemon fires SshBruteForce and UserBrute, "
                       "SshProbe is pending (/api/alerts)", e2e.tail(d.stderr())):
            return
        # The live value reaches every failed login of the fixture once the file is read (an
        # /api/alerts that reads the state file keeps the value of the firing transition).
        alerts = e2e.wait_for(lambda: (lambda a: a if (brute_of(a) or {}).get("value") == fails
                                       else None)(firing()), 10, 0.2) or firing()
        brute = brute_of(alerts)
        fp = brute["fingerprint"]

        profile = td.join("chromium-profile")
        try:
            drv = start_browser(chromium, driver, profile)
        except Exception as e:  # a browser that does not start is this test's failure
            t.check(False, "chromium starts headless", repr(e))
            return
        drv.set_page_load_timeout(30)
        drv.get(base + "/")
        body = text_of(drv)
        t.check(drv.title == "logwarden", "GET / in chromium: the dashboard", drv.title)
        t.check("SshBruteForce" in body and "59.108.33.66" in body and "UserBrute" in body,
                "the rendered page names the firing alerts and their labels", body[:2000])
        nf = sum(1 for a in alerts if a.get("state") == "firing")
        t.check(f"{nf} firing, {len(alerts) - nf} pending" in body,
                f"the alert count as /api/alerts gives it: {nf} firing, {len(alerts) - nf} pending",
                body[:600])
        i_brute, i_user = body.find("SshBruteForce"), body.find("UserBrute")
        i_probe = body.find("SshProbe")
        t.check(0 <= i_brute < i_user < i_probe, "firing alerts first (critical before warning), "
                "then pending", f"{i_brute} {i_user} {i_probe}")
        if "labels" in brute:  # part B's live /api/alerts
            t.eq(brute["value"], fails, "the brute force's value: its failed logins in the fixture")
        shown = f"value {brute['value']:g}"
        t.check(shown in body, f"the page shows that value ({shown})", body[:1500])
        summary = (brute.get("annotations") or {}).get("summary")
        if summary is not None or "labels" in brute:  # part B's /api/alerts
            t.check(summary and re.fullmatch(r"\d+ failed ssh logins from 59\.108\.33\.66 in 2m",
                                             summary) and summary in body,
                    "the summary annotation is on the page", f"{summary!r}\n{body[:1500]}")
            t.check("critical" in body and "security" in body,
                    "the severity and the rule's labels are on the page", body[:1500])
        sev = drv.execute_script("var a=document.querySelectorAll('#alerts article');"
                                 "return Array.prototype.map.call(a,function(x){"
                                 "return x.className+'|'+getComputedStyle(x).borderLeftColor;})")
        if brute.get("severity") or (brute.get("labels") or {}).get("severity"):
            t.check(any("sev-crit firing" in s for s in sev) and
                    len({s.split("|")[1] for s in sev}) >= 2,
                    "alerts are coloured by severity (border colours differ)", sev)

        # The attacker's user name: text on the page, never a script or an image that runs.
        t.check(EVIL_USER in body, "a <script> user name is shown as text", body[:3000])
        t.eq(drv.execute_script("return window.lwPwned === undefined"), True,
             "the <script> and <img onerror> in a label never ran")

        code, rules = api(port, "/api/rules")
        if code == 200 and isinstance(rules, list):  # part B's /api/rules
            spark = drv.execute_script(
                "return document.querySelectorAll('#rules svg.spark').length")
            t.check(spark >= 1, "the rules section has inline SVG sparklines", spark)
            rows = text_of(drv)
            t.check(all(r.get("alert", "?") in rows for r in rules),
                    "every rule of /api/rules has a row", [r.get("alert") for r in rules])
        else:
            t.check("the rules could not be read" in body,
                    f"/api/rules answers {code}: the page says the rules could not be read",
                    body[:3000])
        code, health = api(port, "/health")
        if isinstance(health, dict) and isinstance(health.get("inputs"), dict):
            t.check(re.search(r"auth\s+healthy", body), "the inputs table shows auth healthy",
                    body[-2000:])
            t.check("archive" in body, "the sinks table shows the archive sink", body[-2000:])
        else:
            t.check("Inputs" in body and (health or {}).get("status", "?") in body,
                    "the inputs section shows /health's status", body[-2000:])

        # Loaded again (a second or more later): records per second since the last load.
        def rate_shown():
            drv.get(base + "/")
            return re.search(r"auth\s+healthy\s+\d+\s+\d+\.\d", text_of(drv))
        if isinstance(health, dict) and isinstance(health.get("inputs"), dict):
            t.check(e2e.wait_for(rate_shown, 10, 0.5),
                    "loaded again, the inputs table has records per second", text_of(drv)[-1500:])
        screenshot(drv, os.path.join(out, "dashboard-desktop.png"), 1280)
        screenshot(drv, os.path.join(out, "dashboard-phone.png"), 390)
        overflow = drv.execute_script("return document.documentElement.scrollWidth")
        t.check(overflow <= 390, "at phone width (390 px) the page does not scroll sideways",
                overflow)
        drv.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        # The silence form: a wrong token is refused and creates nothing; the right one creates
        # the silence /api/silences then lists.
        from selenium.webdriver.common.by import By
        def fill_silence(token, comment):
            drv.get(base + "/")
            art = card(drv, "SshBruteForce")
            art.find_element(By.CSS_SELECTOR, "details.silence summary").click()
            form = art.find_element(By.CSS_SELECTOR, "form.silence")
            ticks = [c.get_attribute("value") for c in
                     form.find_elements(By.CSS_SELECTOR, "input[name=matcher]") if c.is_selected()]
            dur = form.find_element(By.NAME, "duration")
            dur.clear()
            dur.send_keys("2h")
            form.find_element(By.NAME, "comment").send_keys(comment)
            form.find_element(By.NAME, "token").send_keys(token)
            navigate(drv, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
            return ticks

        ticks = fill_silence("wrong-" + TOKEN, "not me")
        body = text_of(drv)
        t.check("Wrong token" in body, "the form with a wrong token: refused, said on the page",
                body[:500])
        code, sil = api(port, "/api/silences")
        t.eq(sil, [], "a refused form creates no silence")

        ticks = fill_silence(TOKEN, "from chromium")
        t.check("ip=59.108.33.66" in ticks and "alert=SshBruteForce" in ticks,
                "the form's matchers are prefilled from the alert's labels", ticks)
        e2e.wait_for(lambda: "msg=silenced" in drv.current_url, 10)
        body = text_of(drv)
        t.check("msg=silenced" in drv.current_url and re.search(r"Silence [0-9a-f-]{36} created",
                                                                  body),
                "the post answers 303 back to the page, with a visible message",
                f"{drv.current_url}\n{body[:400]}")
        code, sil = api(port, "/api/silences")
        mine = [s for s in sil or [] if s.get("comment") == "from chromium"]
        got = sorted(f"{m.get('name')}={m.get('value')}" for m in (mine or [{}])[0].get(
            "matchers", []))
        t.check(len(mine) == 1 and "ip=59.108.33.66" in got and "alert=SshBruteForce" in got and
                mine[0].get("createdBy") == "dashboard",
                "/api/silences holds the silence, with the alert's matchers", sil)
        if mine:
            t.check(re.search(r"ip=\"59\.108\.33\.66\".*from chromium", body, re.S) and
                    "expire" in body, "the page lists the active silence with expire", body[-1500:])
            sid = mine[0]["id"]
            muted = e2e.wait_for(lambda: sid in (brute_of(api(port, "/api/alerts")[1]) or {}).get(
                "silenced_by", []), 15, 0.3)
            t.check(muted, "/api/alerts says the silence mutes the alert (silenced_by)")
            drv.get(base + "/")
            art = card(drv, "SshBruteForce")
            t.check(art is not None and f"silenced by {sid}" in art.text,
                    "its card says which silence mutes it", art.text if art else text_of(drv))
            end = mine[0].get("endsAt", "")
            t.check(end[:13] != mine[0].get("startsAt", "")[:13],
                    "the silence lasts the duration given (2h)", mine[0])
            form = drv.find_element(By.CSS_SELECTOR,
                                    f"form[action='/silences/{mine[0]['id']}/expire']")
            form.find_element(By.NAME, "token").send_keys(TOKEN)
            navigate(drv, form.find_element(By.CSS_SELECTOR, "button"))
            e2e.wait_for(lambda: "msg=expired" in drv.current_url, 10)
            code, sil = api(port, "/api/silences")
            t.eq(sil, [], "the expire button ends the silence")
            t.check("No active silence." in text_of(drv), "the page shows no active silence")

        # The alert's page.
        drv.get(base + "/")
        navigate(drv, card(drv, "SshBruteForce").find_element(By.XPATH, ".//h3/a"))
        e2e.wait_for(lambda: f"/alerts/{fp}" in drv.current_url, 10)
        body = text_of(drv)
        code, x = api(port, f"/api/alerts/{fp}")
        if code == 200 and isinstance(x, dict) and "error" not in x:
            t.check("SshBruteForce" in body and drv.execute_script(
                "return document.querySelectorAll('#series svg.chart').length") == 1,
                "the alert's page: its name and the value chart", body[:800])
            t.check("time (UTC)" in body and "value" in body,
                    "the chart's axes are labelled", body[:2000])
            samples = [s.get("line", "") for s in x.get("samples") or []]
            fixture = open(FIXTURE, encoding="utf-8", errors="replace").read().split("\n")
            t.check(samples and all(s in fixture for s in samples) and
                    all(s in body for s in samples),
                    "the alert's page shows the lines that fed it, each a line of the fixture",
                    f"{samples[:3]}\n{body[-1500:]}")
            t.check(len(x.get("history") or []) >= 1 and "History" in body,
                    "the alert's page shows the history", x.get("history"))
        else:
            t.check(body and ("could not be read" in body or "No such alert" in body),
                    f"/api/alerts/{{fp}} answers {code}: the page says so", body[:500])
        screenshot(drv, os.path.join(out, "alert-desktop.png"), 1280)
        drv.get(base + "/alerts/0123456789abcdef")
        t.check("No such alert" in text_of(drv) or "could not be read" in text_of(drv),
                "an unknown fingerprint: a page that says so", text_of(drv)[:300])
        t.check(not re.search(r"\b" + re.escape(TOKEN) + r"\b", d.stderr()),
                "the token is never logged", "")
        basic_auth(t, binary, drv, td)
    finally:
        if drv is not None:
            drv.quit()
        t.eq(d.stop(), 0, "SIGTERM -> exit 0")
        td.cleanup()


def basic_auth(t, binary, drv, td):
    """Without public_reads the pages need the token: the browser, without JavaScript's help,
    sends it as HTTP Basic (here from the URL's user:password), and the forms then need no
    token field: the expire button posts with the browser's Basic credentials."""
    from selenium.webdriver.common.by import By
    port = e2e.free_port()
    cfg = td.write("basic.yaml", f"""state: basic.db
rules: [rules.yaml]
http:
  listen: 127.0.0.1:{port}
  token: ${{LW_E2E_DASH_TOKEN}}
inputs:
  - {{name: none, type: file, paths: [none.log]}}
sinks:
  - {{name: archive, type: file, path: basic.jsonl}}
""")
    d = e2e.Daemon(binary, cfg, td.path)
    try:
        up = e2e.wait_for(lambda: api(port, "/health")[0] is not None or not d.alive(), 10)
        if not t.check(up and d.alive(), "a daemon without public_reads", e2e.tail(d.stderr())):
            return
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/silences", method="POST",
            data=json.dumps({"matchers": ["alert=Basic"], "duration": "1h",
                             "comment": "basic"}).encode(),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            sid = json.loads(r.read())["silenceID"]
        drv.get(f"http://127.0.0.1:{port}/")
        t.check(drv.title != "logwarden" and "alert=" not in text_of(drv),
                "without the token the browser gets a 401 and no data",
                f"{drv.title}\n{text_of(drv)[:300]}")
        drv.get(f"http://ops:{TOKEN}@127.0.0.1:{port}/")
        body = text_of(drv)
        t.check(drv.title == "logwarden" and 'alert="Basic"' in body,
                "with the token as Basic password the browser reads the dashboard", body[-800:])
        forms = drv.find_elements(By.CSS_SELECTOR, f"form[action='/silences/{sid}/expire']")
        t.check(forms and not forms[0].find_elements(By.NAME, "token"),
                "read with Basic, the expire form asks for no token")
        if forms:
            navigate(drv, forms[0].find_element(By.CSS_SELECTOR, "button"))
            e2e.wait_for(lambda: "msg=expired" in drv.current_url, 10)
            code, sil = api(port, "/api/silences", TOKEN)
            t.check(code == 200 and sil == [] and "No active silence." in text_of(drv),
                    "the expire button posts with the browser's Basic credentials",
                    f"{sil}\n{drv.current_url}\n{text_of(drv)[:300]}\n{e2e.tail(d.stderr(), 5)}")
    finally:
        t.eq(d.stop(), 0, "the second daemon: SIGTERM -> exit 0")


if __name__ == "__main__":
    sys.exit(main())
