"""receivers.py: shared pieces of the sinks' end-to-end tests (Python 3 standard library).

- Receiver: the shared loopback receiver (e2e.Receiver) answering, after its script, with
  each service's usual success answer for the path.
- check_*: each payload against the receiving service's documented schema (required fields,
  types, enums, limits), returning a list of problems (empty when the payload is valid).
- The rule, config and log lines that make one alert fire and resolve under
  `logwarden replay --notify`.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import e2e  # noqa: E402  (tests/e2e/e2e.py: Checks, TempDir, Receiver, wait_for, run)

IP = "203.0.113.7"
OTHER_IP = "198.51.100.23"

RULES = """
events:
  - name: login_failed
    where: 'msg == "login failed"'
    timestamp: {field: ts, format: rfc3339}
alerts:
  - name: SshBruteForce
    event: login_failed
    group_by: [ip]
    window: 1m
    count: {above: 2}
    severity: critical
    annotations:
      summary: '{{ value }} failed logins from {{ ip }} <script>&'
"""


def lines(base=None):
    """Three failures from IP a second apart (the alert fires at the third), then one from
    another IP two minutes later: the watermark passes the window and the alert resolves."""
    if base is None:
        base = int(time.time()) - 300
    def ts(t):
        return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = [{"ts": ts(base + i), "msg": "login failed", "ip": IP} for i in range(3)]
    out.append({"ts": ts(base + 122), "msg": "login failed", "ip": OTHER_IP})
    return "".join(json.dumps(o) + "\n" for o in out)


def config(state, sinks_yaml, names, extra=""):
    return f"""
state: {state}
rules: [rules.yaml]
inputs:
  - name: app
    type: stdin
    format: json
sinks:
{sinks_yaml}
routes:
  - sinks: [{", ".join(names)}]
notify:
  group_wait: 0s
  send_resolved: true
{extra}"""


free_port = e2e.free_port


def replay(binary, tmp, lines_text, env=None, timeout=150):
    """`logwarden replay -c CONFIG --notify FILE`; returns CompletedProcess."""
    path = tmp.write("lines.jsonl", lines_text)
    return e2e.run([binary, "replay", "-c", tmp.join("logwarden.yaml"), "--notify", path],
                   timeout=timeout, env=env)


# ---------------------------------------------------------------- the receiver

# The usual success answers, by path prefix.
OK_ANSWERS = [
    ("/slack/", (200, {}, b"ok")),
    ("/pd/", (202, {"Content-Type": "application/json"},
              b'{"status":"success","message":"Event processed","dedup_key":"x"}')),
    ("/teams/", (202, {}, b"")),
    ("/discord/", (204, {}, b"")),
    ("/tg/", (200, {"Content-Type": "application/json"},
              b'{"ok":true,"result":{"message_id":1}}')),
    ("/og/", (202, {"Content-Type": "application/json"},
              b'{"result":"Request will be processed","took":0.1,"requestId":"r"}')),
]


def usual_answer(n, req):
    """The receiving service's usual success answer for req's path; 404 for an unknown path."""
    for prefix, ok in OK_ANSWERS:
        if req["path"].startswith(prefix):
            return ok
    return (404, {}, b"no such receiver")


class Receiver(e2e.Receiver):
    """e2e.Receiver answering each service's usual success (OK_ANSWERS, by path prefix) once
    the script's steps are spent. script: answers for the first requests, in order:
    (status, headers, body), or ("slow", seconds) to hold the answer that long (beyond the
    client's timeout: recorded as answered None)."""

    def __init__(self, port=0, script=None):
        super().__init__(port=port, script=script, answer=usual_answer)


# ---------------------------------------------------------------- schema checks

def _str(v, maxlen=None, nonempty=False):
    return isinstance(v, str) and (not nonempty or v != "") and (maxlen is None or len(v) <= maxlen)


def _utf16_len(s):
    return len(s.encode("utf-16-le")) // 2


def _iso8601(s):
    try:
        datetime.fromisoformat(s.replace("Z", "+00:00"))
        return True
    except (TypeError, ValueError):
        return False


def check_slack(doc):
    """Incoming webhook message with Block Kit (api.slack.com/reference/block-kit)."""
    p = []
    if not isinstance(doc, dict):
        return ["not an object"]
    if not _str(doc.get("text"), 40000, nonempty=True):
        p.append("text: a non-empty string is required (notification fallback)")
    for k in ("channel", "username", "icon_emoji", "icon_url"):
        if k in doc and not _str(doc[k]):
            p.append(f"{k}: not a string")
    blocks = list(doc.get("blocks") or [])
    atts = doc.get("attachments", [])
    if not isinstance(atts, list):
        return p + ["attachments: not an array"]
    for i, a in enumerate(atts):
        if not re.fullmatch(r"#[0-9A-Fa-f]{6}", str(a.get("color", ""))):
            p.append(f"attachments[{i}].color: not #RRGGBB")
        if not isinstance(a.get("blocks"), list):
            p.append(f"attachments[{i}].blocks: not an array")
            continue
        blocks += a["blocks"]
    if len(blocks) > 50:
        p.append(f"{len(blocks)} blocks: more than 50")

    def text_obj(t, where, maxlen, plain_only=False):
        if not isinstance(t, dict) or t.get("type") not in (("plain_text",) if plain_only else ("plain_text", "mrkdwn")):
            p.append(f"{where}: not a text object")
        elif not _str(t.get("text"), maxlen, nonempty=True):
            p.append(f"{where}.text: empty or over {maxlen} characters")

    for i, b in enumerate(blocks):
        t = b.get("type")
        w = f"block {i} ({t})"
        if t == "header":
            text_obj(b.get("text"), w + ".text", 150, plain_only=True)
        elif t == "section":
            if "text" not in b and "fields" not in b:
                p.append(f"{w}: needs text or fields")
            if "text" in b:
                text_obj(b["text"], w + ".text", 3000)
            fields = b.get("fields", [])
            if len(fields) > 10:
                p.append(f"{w}: more than 10 fields")
            for j, f in enumerate(fields):
                text_obj(f, f"{w}.fields[{j}]", 2000)
        elif t == "context":
            els = b.get("elements", [])
            if not 1 <= len(els) <= 10:
                p.append(f"{w}: 1 to 10 elements")
            for j, e in enumerate(els):
                text_obj(e, f"{w}.elements[{j}]", 3000)
        elif t == "actions":
            els = b.get("elements", [])
            if not 1 <= len(els) <= 25:
                p.append(f"{w}: 1 to 25 elements")
            for j, e in enumerate(els):
                if e.get("type") != "button":
                    p.append(f"{w}.elements[{j}]: not a button")
                text_obj(e.get("text"), f"{w}.elements[{j}].text", 75, plain_only=True)
                if "url" in e and not _str(e["url"], 3000, nonempty=True):
                    p.append(f"{w}.elements[{j}].url: bad")
        elif t != "divider":
            p.append(f"{w}: unknown block type")
    return p


PD_KEYS = {"routing_key", "event_action", "dedup_key", "payload", "client", "client_url",
           "links", "images"}


def check_pagerduty(doc):
    """Events API v2 (developer.pagerduty.com/docs/events-api-v2/trigger-events)."""
    if not isinstance(doc, dict):
        return ["not an object"]
    p = [f"unknown key {k}" for k in doc if k not in PD_KEYS]
    if not _str(doc.get("routing_key")) or len(doc["routing_key"]) != 32:
        p.append("routing_key: a 32-character integration key is required")
    action = doc.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        p.append(f"event_action: {action!r} is not trigger, acknowledge or resolve")
    if "dedup_key" in doc and not _str(doc["dedup_key"], 255, nonempty=True):
        p.append("dedup_key: not a string of 1..255")
    if action in ("acknowledge", "resolve"):
        if "dedup_key" not in doc:
            p.append(f"{action} without dedup_key")
        if "payload" in doc:
            p.append(f"{action} carries a payload")
        return p
    pl = doc.get("payload")
    if not isinstance(pl, dict):
        return p + ["trigger without payload"]
    if not _str(pl.get("summary"), 1024, nonempty=True):
        p.append("payload.summary: 1..1024 characters required")
    if not _str(pl.get("source"), nonempty=True):
        p.append("payload.source: required")
    if pl.get("severity") not in ("critical", "error", "warning", "info"):
        p.append(f"payload.severity: {pl.get('severity')!r} is not one of the four")
    if "timestamp" in pl and not _iso8601(pl["timestamp"]):
        p.append("payload.timestamp: not ISO 8601")
    for k in ("component", "group", "class"):
        if k in pl and not _str(pl[k]):
            p.append(f"payload.{k}: not a string")
    if "custom_details" in pl and not isinstance(pl["custom_details"], dict):
        p.append("payload.custom_details: not an object")
    return p


TEAMS_COLORS = {"default", "dark", "light", "accent", "good", "warning", "attention"}


def check_teams(doc, raw_len):
    """A message with an Adaptive Card attachment (learn.microsoft.com, Teams webhooks)."""
    if not isinstance(doc, dict):
        return ["not an object"]
    p = []
    if raw_len > 28 * 1024:
        p.append(f"{raw_len} bytes: over Teams' 28 KB")
    if doc.get("type") != "message":
        p.append("type: must be 'message'")
    atts = doc.get("attachments")
    if not isinstance(atts, list) or not atts:
        return p + ["attachments: a non-empty array is required"]
    for i, a in enumerate(atts):
        if a.get("contentType") != "application/vnd.microsoft.card.adaptive":
            p.append(f"attachments[{i}].contentType: not an Adaptive Card")
        c = a.get("content") or {}
        if c.get("type") != "AdaptiveCard":
            p.append(f"attachments[{i}].content.type: not AdaptiveCard")
        if not re.fullmatch(r"1\.[0-5]", str(c.get("version", ""))):
            p.append(f"attachments[{i}].content.version: {c.get('version')!r}")
        body = c.get("body")
        if not isinstance(body, list) or not body:
            p.append(f"attachments[{i}].content.body: a non-empty array is required")
            continue
        for j, el in enumerate(body):
            w = f"body[{j}]"
            if el.get("type") == "TextBlock":
                if not _str(el.get("text")):
                    p.append(f"{w}.text: not a string")
                if "color" in el and str(el["color"]).lower() not in TEAMS_COLORS:
                    p.append(f"{w}.color: {el['color']!r}")
                if "size" in el and str(el["size"]).lower() not in {"small", "default", "medium", "large", "extralarge"}:
                    p.append(f"{w}.size: {el['size']!r}")
                if "weight" in el and str(el["weight"]).lower() not in {"lighter", "default", "bolder"}:
                    p.append(f"{w}.weight: {el['weight']!r}")
                if "wrap" in el and not isinstance(el["wrap"], bool):
                    p.append(f"{w}.wrap: not a boolean")
            elif el.get("type") == "FactSet":
                facts = el.get("facts")
                if not isinstance(facts, list):
                    p.append(f"{w}.facts: not an array")
                    continue
                for k, f in enumerate(facts):
                    if not (_str(f.get("title")) and _str(f.get("value"))):
                        p.append(f"{w}.facts[{k}]: title and value must be strings")
            elif el.get("type") not in ("Container", "ColumnSet", "Image", "ActionSet"):
                p.append(f"{w}: unknown element type {el.get('type')!r}")
    return p


def check_discord(doc):
    """Execute Webhook (discord.com/developers/docs/resources/webhook), embed limits."""
    if not isinstance(doc, dict):
        return ["not an object"]
    p = []
    if "content" in doc and not _str(doc["content"], 2000):
        p.append("content: over 2000 characters")
    embeds = doc.get("embeds", [])
    if not doc.get("content") and not embeds:
        p.append("neither content nor embeds")
    if len(embeds) > 10:
        p.append("more than 10 embeds")
    total = 0
    for i, e in enumerate(embeds):
        w = f"embeds[{i}]"
        for k, lim in (("title", 256), ("description", 4096)):
            if k in e:
                if not _str(e[k], lim):
                    p.append(f"{w}.{k}: over {lim}")
                total += len(e[k])
        if "color" in e and not (isinstance(e["color"], int) and 0 <= e["color"] <= 0xFFFFFF):
            p.append(f"{w}.color: not an integer colour")
        if "timestamp" in e and not _iso8601(e["timestamp"]):
            p.append(f"{w}.timestamp: not ISO 8601")
        if "footer" in e:
            if not _str(e["footer"].get("text"), 2048, nonempty=True):
                p.append(f"{w}.footer.text: 1..2048")
            total += len(e["footer"].get("text", ""))
        fields = e.get("fields", [])
        if len(fields) > 25:
            p.append(f"{w}: more than 25 fields")
        for j, f in enumerate(fields):
            if not _str(f.get("name"), 256, nonempty=True) or not _str(f.get("value"), 1024, nonempty=True):
                p.append(f"{w}.fields[{j}]: name 1..256 and value 1..1024 required")
            if "inline" in f and not isinstance(f["inline"], bool):
                p.append(f"{w}.fields[{j}].inline: not a boolean")
            total += len(f.get("name", "")) + len(f.get("value", ""))
    if total > 6000:
        p.append(f"embeds hold {total} characters: over 6000")
    am = doc.get("allowed_mentions")
    if am is not None and not set(am.get("parse", [])) <= {"roles", "users", "everyone"}:
        p.append("allowed_mentions.parse: unknown kinds")
    return p


TG_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
           "tg-spoiler", "span", "blockquote", "tg-emoji"}


def check_telegram(doc, path, token):
    """sendMessage (core.telegram.org/bots/api#sendmessage) with parse_mode HTML."""
    if not isinstance(doc, dict):
        return ["not an object"]
    p = []
    if path != f"/tg/bot{token}/sendMessage":
        p.append(f"path {path!r} is not /bot<token>/sendMessage")
    if not (isinstance(doc.get("chat_id"), int) or _str(doc.get("chat_id"), nonempty=True)):
        p.append("chat_id: an integer or a string is required")
    if doc.get("parse_mode") not in (None, "HTML", "MarkdownV2", "Markdown"):
        p.append(f"parse_mode: {doc.get('parse_mode')!r}")
    text = doc.get("text")
    if not _str(text, nonempty=True):
        return p + ["text: required"]
    if doc.get("parse_mode") == "HTML":
        stack = []
        for m in re.finditer(r"<(/?)([a-zA-Z-]+)(?:\s[^<>]*)?>", text):
            closing, tag = m.group(1) == "/", m.group(2).lower()
            if tag not in TG_TAGS:
                p.append(f"unsupported tag <{tag}>")
            elif closing:
                if not stack or stack.pop() != tag:
                    p.append(f"unbalanced </{tag}>")
            else:
                stack.append(tag)
        if stack:
            p.append(f"unclosed tags {stack}")
        plain = re.sub(r"<[^<>]*>", "", text)
        if "<" in plain or ">" in plain:
            p.append("a raw < or > outside a tag")
        for m in re.finditer(r"&[^;\s]*;?", plain):
            if not re.fullmatch(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);", m.group(0)):
                p.append(f"bad entity {m.group(0)!r}")
        plain = (plain.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
                 .replace("&amp;", "&"))
    else:
        plain = text
    if not 1 <= _utf16_len(plain) <= 4096:
        p.append(f"text: {_utf16_len(plain)} characters after entities (1..4096)")
    return p


def check_opsgenie(req, key):
    """Alert API v2 (docs.opsgenie.com/docs/alert-api): create and close by alias."""
    p = []
    if req["headers"].get("Authorization") != f"GenieKey {key}":
        p.append("Authorization: not 'GenieKey <api key>'")
    doc = req["json"]
    path = req["path"]
    if path == "/og/v2/alerts":
        if not isinstance(doc, dict):
            return p + ["create: not an object"]
        if not _str(doc.get("message"), 130, nonempty=True):
            p.append("message: 1..130 characters required")
        for k, lim in (("alias", 512), ("description", 15000), ("entity", 512),
                       ("source", 100), ("user", 100), ("note", 25000)):
            if k in doc and not _str(doc[k], lim):
                p.append(f"{k}: over {lim} or not a string")
        if "priority" in doc and doc["priority"] not in ("P1", "P2", "P3", "P4", "P5"):
            p.append(f"priority: {doc['priority']!r}")
        det = doc.get("details", {})
        if not isinstance(det, dict) or not all(isinstance(v, str) for v in det.values()):
            p.append("details: must map strings to strings")
        elif sum(len(k) + len(v) for k, v in det.items()) > 8000:
            p.append("details: over 8000 characters")
        tags = doc.get("tags", [])
        if not isinstance(tags, list) or len(tags) > 20 or not all(_str(t, 50) for t in tags):
            p.append("tags: up to 20 strings of up to 50")
    else:
        m = re.fullmatch(r"/og/v2/alerts/([^/?]+)/close\?identifierType=(id|alias|tiny)", path)
        if not m:
            return p + [f"unexpected path {path!r}"]
        if doc is not None:
            if not isinstance(doc, dict):
                p.append("close: body not an object")
            else:
                for k, lim in (("source", 100), ("user", 100), ("note", 25000)):
                    if k in doc and not _str(doc[k], lim):
                        p.append(f"close {k}: over {lim}")
    return p


# ---------------------------------------------------------------- processes

def find_python_with(module):
    """An interpreter that can import module: this one, or Debian's (python3-* packages)."""
    for exe in (sys.executable, "/usr/bin/python3"):
        if exe and os.access(exe, os.X_OK):
            r = subprocess.run([exe, "-c", f"import {module}"], capture_output=True)
            if r.returncode == 0:
                return exe
    return None


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def stop_process(proc, timeout=10):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
