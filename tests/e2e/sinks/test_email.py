#!/usr/bin/env python3
"""test_email.py: the email sink against a real SMTP server on loopback.

aiosmtpd (Debian's python3-aiosmtpd) listens on 127.0.0.1 with a handler that writes each
message, and its envelope, to a folder in arrival order. `logwarden replay --notify` makes an
alert fire and resolve: two mails must arrive, firing first, each a MIME multipart/alternative
with a text/plain and a text/html part in UTF-8, an RFC 2047 encoded Subject like
"[FIRING] SshBruteForce ip=203.0.113.7 team=sécurité", and the log text escaped in the HTML.

usage: test_email.py PATH/TO/logwarden
"""

import email
import email.policy
import email.utils
import html.parser
import json
import os
import subprocess
import time

import receivers as rv
from receivers import e2e

# An aiosmtpd handler: each message to NNN.eml (raw bytes) with NNN.json (the envelope).
HANDLER = '''
import json, os

class Drop:
    def __init__(self, folder):
        self.folder = folder
        self.n = 0

    @classmethod
    def from_cli(cls, parser, *args):
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        base = os.path.join(self.folder, "%03d" % self.n)
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
        raw = envelope.original_content or envelope.content
        with open(base + ".tmp", "wb") as f:
            f.write(raw)
        os.rename(base + ".tmp", base + ".eml")
        return "250 Message accepted for delivery"
'''

RULES = rv.RULES.replace("    severity: critical\n",
                         "    severity: critical\n    labels: {team: sécurité}\n")


class Tags(html.parser.HTMLParser):
    """Collects start tags, to see the log's <script> did not become one."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def main():
    binary = e2e.binary_from_argv()
    c = e2e.Checks()
    py = rv.find_python_with("aiosmtpd")
    if not c.check(py, "aiosmtpd is installed",
                   "no python3 can import aiosmtpd: install the Debian package python3-aiosmtpd "
                   "(`make deps` installs .ci/packages/sinks.txt)"):
        c.finish()
    tmp = e2e.TempDir("sinks-email")
    proc = None
    log = None
    try:
        port = rv.free_port()
        drop = tmp.join("drop")
        os.makedirs(drop)
        tmp.write("lw_drop.py", HANDLER)
        env = dict(os.environ, PYTHONPATH=tmp.path, PYTHONDONTWRITEBYTECODE="1")
        log = open(tmp.join("smtpd.log"), "wb")
        proc = subprocess.Popen([py, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                                 "-c", "lw_drop.Drop", drop],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        if not c.check(e2e.wait_for(lambda: rv.port_open(port), 20), "the SMTP server listens",
                       e2e.tail(open(tmp.join("smtpd.log"), errors="replace").read())):
            return

        tmp.write("rules.yaml", RULES)
        sinks = f"""
  - name: mail
    type: email
    smtp: smtp://127.0.0.1:{port}
    starttls: false
    from: 'logwarden <alerts@example.com>'
    to: [oncall@example.com, 'Ops Team <ops@example.com>']
    timeout: 10s
"""
        tmp.write("logwarden.yaml", rv.config(tmp.join("state.db"), sinks, ["mail"]))
        r = rv.replay(binary, tmp, rv.lines())
        c.eq(r.returncode, 0, "replay --notify exits 0")
        c.check("delivery failed" not in r.stderr, "delivered at the first attempt",
                e2e.tail(r.stderr))

        def mails():
            return sorted(f for f in os.listdir(drop) if f.endswith(".eml"))

        e2e.wait_for(lambda: len(mails()) >= 2, 20)
        files = mails()
        if not c.eq(len(files), 2, "two mails arrive (firing, resolved)"):
            return
        subjects = []
        for i, name in enumerate(files):
            raw = open(os.path.join(drop, name), "rb").read()
            env_ = json.load(open(os.path.join(drop, name[:-4] + ".json")))
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            what = f"mail {i}"
            c.eq(env_["mail_from"], "alerts@example.com", f"{what}: envelope sender")
            c.eq(sorted(env_["rcpt_tos"]), ["oncall@example.com", "ops@example.com"],
                 f"{what}: envelope recipients")
            c.eq(str(msg["From"]), "logwarden <alerts@example.com>", f"{what}: From")
            c.eq(str(msg["To"]), "oncall@example.com, Ops Team <ops@example.com>", f"{what}: To")
            c.check(email.utils.parsedate_to_datetime(str(msg["Date"])) is not None,
                    f"{what}: Date parses")
            c.check(str(msg["Message-ID"]).endswith("@example.com>"), f"{what}: Message-ID")
            c.eq(str(msg["MIME-Version"]), "1.0", f"{what}: MIME-Version")
            c.check(b"\nSubject: =?UTF-8?B?" in raw, f"{what}: Subject is RFC 2047 encoded")
            subjects.append(str(msg["Subject"]))
            c.eq(msg.get_content_type(), "multipart/alternative", f"{what}: multipart/alternative")
            parts = list(msg.iter_parts())
            c.eq([p.get_content_type() for p in parts], ["text/plain", "text/html"],
                 f"{what}: a text/plain then a text/html part")
            c.eq([p.get_content_charset() for p in parts], ["utf-8", "utf-8"], f"{what}: UTF-8")
            c.eq([d for p in [msg] + parts for d in p.defects], [], f"{what}: no MIME defects")
            if len(parts) != 2:
                continue
            text, page = parts[0].get_content(), parts[1].get_content()
            c.check(f" failed logins from {rv.IP} <script>&" in text,
                    f"{what}: the summary in the text part", text)
            c.check(f"ip: {rv.IP}" in text and "team: sécurité" in text,
                    f"{what}: labels in the text part", text)
            c.check("&lt;script&gt;&amp;" in page, f"{what}: log text escaped in the HTML", page)
            tags = Tags()
            tags.feed(page)
            c.check("script" not in tags.tags and "table" in tags.tags,
                    f"{what}: the HTML has its table and no injected tag", tags.tags)
        c.eq(subjects, [f"[FIRING] SshBruteForce ip={rv.IP} team=sécurité",
                        f"[RESOLVED] SshBruteForce ip={rv.IP} team=sécurité"],
             "subjects: firing first, then resolved")

        # starttls: true (the default) against a server without STARTTLS: no mail in clear,
        # and a failure at once (no retry can fix it), not retried until max_age.
        tmp.write("logwarden.yaml", rv.config(tmp.join("state2.db"), sinks.replace(
            "    starttls: false\n", ""), ["mail"]))
        t0 = time.monotonic()
        r = rv.replay(binary, tmp, rv.lines())
        c.check(time.monotonic() - t0 < 20 and "retrying" not in r.stderr,
                "STARTTLS required but not offered: fails at once, no retries",
                e2e.tail(r.stderr))
        c.check("SSL" in r.stderr or "TLS" in r.stderr, "the failure names TLS",
                e2e.tail(r.stderr))
        c.eq(len(mails()), 2, "no mail sent in clear")
    finally:
        if proc:
            rv.stop_process(proc)
        if log:
            log.close()
        tmp.cleanup()
        c.finish()


if __name__ == "__main__":
    main()
