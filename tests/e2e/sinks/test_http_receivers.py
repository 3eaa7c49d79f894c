#!/usr/bin/env python3
"""test_http_receivers.py: slack, pagerduty, teams, discord, telegram and opsgenie end to end.

`logwarden replay --notify` runs a count rule over four JSON lines: the alert fires at the
third and resolves at the fourth. Every sink points at one loopback receiver (127.0.0.1,
ephemeral port) that checks each request against the receiving service's documented schema
(receivers.py) and answers as the service does. Each sink must receive the firing form then
the resolved form, valid, with the alert's content; secrets from ${ENV} reach the receivers
and never logwarden's output.

usage: test_http_receivers.py PATH/TO/logwarden
"""

import os
import re

import receivers as rv
from receivers import e2e

PD_KEY = "e2eR0ut1ngKey0123456789abcdef012"  # 32 characters, as PagerDuty's
TG_TOKEN = "123456789:AAE2e-s3cret_t0ken"
OG_KEY = "e2e-0g-s3cret-4b1c"
SECRETS = (PD_KEY, TG_TOKEN, OG_KEY, "s3cretSlackPath")


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    tmp = e2e.TempDir("sinks-http")
    recv = rv.Receiver()
    try:
        run(binary, c, tmp, recv)
    finally:
        recv.stop()
        tmp.cleanup()
    c.finish()


def run(binary, c, tmp, recv):
    tmp.write("rules.yaml", rv.RULES)
    sinks = f"""
  - name: ops
    type: slack
    url: ${{LW_E2E_SLACK_URL}}
    channel: '#alerts'
    dashboard_url: http://127.0.0.1:9880/
  - name: pager
    type: pagerduty
    routing_key: ${{LW_E2E_PD_KEY}}
    url: {recv.url('/pd/v2/enqueue')}
    component: sshd
  - name: teams
    type: teams
    url: {recv.url('/teams/workflows/abc')}
  - name: discord
    type: discord
    url: {recv.url('/discord/api/webhooks/1/tok')}
  - name: tg
    type: telegram
    bot_token: ${{LW_E2E_TG_TOKEN}}
    chat_id: '-1001234567890'
    url: {recv.url('/tg')}
  - name: og
    type: opsgenie
    api_key: ${{LW_E2E_OG_KEY}}
    url: {recv.url('/og')}
"""
    names = ["ops", "pager", "teams", "discord", "tg", "og"]
    tmp.write("logwarden.yaml", rv.config(tmp.join("state.db"), sinks, names))
    env = dict(os.environ, LW_E2E_SLACK_URL=recv.url("/slack/services/T0/B0/s3cretSlackPath"),
               LW_E2E_PD_KEY=PD_KEY, LW_E2E_TG_TOKEN=TG_TOKEN, LW_E2E_OG_KEY=OG_KEY)
    for k in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(k, None)

    r = rv.replay(binary, tmp, rv.lines(), env=env)
    if not c.eq(r.returncode, 0, "replay --notify exits 0"):
        print(e2e.tail(r.stderr))
        return
    transitions, _ = e2e.parse_json_lines(r.stdout)
    c.eq([t["status"] for t in transitions], ["firing", "resolved"],
         "replay prints the firing then the resolved transition")
    out = r.stdout + r.stderr
    c.check(not any(s in out for s in SECRETS), "no secret in logwarden's output")

    # Slack: two messages, firing then resolved, each valid Block Kit.
    slack = recv.under("/slack/")
    c.eq(len(slack), 2, "slack: two messages")
    for i, req in enumerate(slack):
        c.eq(rv.check_slack(req["json"]), [], f"slack message {i} matches Slack's schema")
    if len(slack) == 2:
        fire, res = slack[0]["json"], slack[1]["json"]
        c.check(slack[0]["path"].endswith("/s3cretSlackPath"), "slack: the URL from ${ENV}")
        c.eq(fire["attachments"][0]["color"], "#E01E5A", "slack: critical is red")
        c.eq(res["attachments"][0]["color"], "#2EB67D", "slack: resolved is green")
        c.check("FIRING" in fire["attachments"][0]["blocks"][0]["text"]["text"],
                "slack: the firing header")
        c.check("RESOLVED" in res["attachments"][0]["blocks"][0]["text"]["text"],
                "slack: the resolved header says so")
        summary = fire["attachments"][0]["blocks"][1]["text"]["text"]
        c.eq(summary, f"3 failed logins from {rv.IP} &lt;script&gt;&amp;",
             "slack: summary escaped for mrkdwn")
        fields = [f["text"] for f in fire["attachments"][0]["blocks"][2]["fields"]]
        c.check(f"*ip*\n{rv.IP}" in fields and "*Value*\n3" in fields,
                "slack: label and value fields", fields)
        c.eq(fire.get("channel"), "#alerts", "slack: channel")
        buttons = [b for b in fire["attachments"][0]["blocks"] if b["type"] == "actions"]
        c.check(buttons and buttons[0]["elements"][0]["url"] == "http://127.0.0.1:9880/",
                "slack: the Dashboard button")

    # PagerDuty: trigger then resolve with one dedup_key.
    pd = recv.under("/pd/")
    c.eq([q["json"].get("event_action") for q in pd], ["trigger", "resolve"],
         "pagerduty: trigger then resolve")
    for i, req in enumerate(pd):
        c.eq(rv.check_pagerduty(req["json"]), [], f"pagerduty event {i} matches Events API v2")
        c.eq(req["headers"].get("Content-Type"), "application/json",
             f"pagerduty event {i}: JSON content type")
    if len(pd) == 2:
        trig = pd[0]["json"]
        fp = transitions[0]["fingerprint"] if transitions else None
        c.eq([q["json"].get("dedup_key") for q in pd], [fp, fp], "pagerduty: dedup_key = fingerprint")
        c.eq(trig["payload"]["severity"], "critical", "pagerduty: severity")
        c.eq(trig["payload"]["component"], "sshd", "pagerduty: component")
        c.eq(trig["payload"]["custom_details"].get("ip"), rv.IP, "pagerduty: custom_details")
        c.eq(trig["payload"]["timestamp"], transitions[0]["starts_at"],
             "pagerduty: timestamp = starts_at")
        c.eq(sorted(pd[1]["json"]), ["dedup_key", "event_action", "routing_key"],
             "pagerduty: a resolve carries only its three keys")

    # Teams.
    teams = recv.under("/teams/")
    c.eq(len(teams), 2, "teams: two messages")
    for i, req in enumerate(teams):
        c.eq(rv.check_teams(req["json"], len(req["body"])), [],
             f"teams message {i} is a valid Adaptive Card message")
    if len(teams) == 2:
        bodies = [q["json"]["attachments"][0]["content"]["body"] for q in teams]
        c.check(bodies[0][0]["text"].startswith("FIRING") and bodies[0][0]["color"] == "attention",
                "teams: firing title in attention colour")
        c.check(bodies[1][0]["text"].startswith("RESOLVED") and bodies[1][0]["color"] == "good",
                "teams: resolved title in good colour")

    # Discord.
    dc = recv.under("/discord/")
    c.eq(len(dc), 2, "discord: two messages")
    for i, req in enumerate(dc):
        c.eq(rv.check_discord(req["json"]), [], f"discord message {i} within embed limits")
    if len(dc) == 2:
        c.eq([q["json"]["embeds"][0]["color"] for q in dc], [0xE01E5A, 0x2EB67D],
             "discord: colour by severity, green once resolved")
        c.eq(dc[0]["json"].get("allowed_mentions"), {"parse": []},
             "discord: log text cannot ping anyone")

    # Telegram.
    tg = recv.under("/tg/")
    c.eq(len(tg), 2, "telegram: two messages")
    for i, req in enumerate(tg):
        c.eq(rv.check_telegram(req["json"], req["path"], TG_TOKEN), [],
             f"telegram message {i} is a valid sendMessage")
    if len(tg) == 2:
        c.eq(tg[0]["json"]["chat_id"], -1001234567890, "telegram: numeric chat_id")
        c.check("&lt;script&gt;&amp;" in tg[0]["json"]["text"], "telegram: log text escaped")
        c.check("RESOLVED" in tg[1]["json"]["text"], "telegram: resolved says so")

    # Opsgenie: create by alias, then close by alias.
    og = recv.under("/og/")
    c.eq(len(og), 2, "opsgenie: create then close")
    for i, req in enumerate(og):
        c.eq(rv.check_opsgenie(req, OG_KEY), [], f"opsgenie request {i} matches the Alert API")
    if len(og) == 2 and transitions:
        fp = transitions[0]["fingerprint"]
        c.eq(og[0]["path"], "/og/v2/alerts", "opsgenie: create path")
        c.eq(og[0]["json"].get("alias"), fp, "opsgenie: alias = fingerprint")
        c.eq(og[0]["json"].get("priority"), "P1", "opsgenie: critical is P1")
        c.eq(og[1]["path"], f"/og/v2/alerts/{fp}/close?identifierType=alias",
             "opsgenie: close by alias")

    # Nothing else arrived.
    c.eq([q["path"] for q in recv.requests if not re.match(r"/(slack|pd|teams|discord|tg|og)/",
                                                           q["path"])], [],
         "no request to an unexpected path")


if __name__ == "__main__":
    main()
