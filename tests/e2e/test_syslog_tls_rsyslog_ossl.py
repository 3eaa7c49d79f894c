#!/usr/bin/env python3
"""test_syslog_tls_rsyslog_ossl.py: test_syslog_tls_rsyslog.py with rsyslog's OpenSSL driver
(rsyslog-openssl, StreamDriver="ossl") instead of GnuTLS: 100 000 messages over TLS, every message
once. Without the restart: rsyslog 8.2302's ossl driver sometimes never reconnects after the
receiver went away (see test_syslog_tls_rsyslog.py).

usage: test_syslog_tls_rsyslog_ossl.py PATH/TO/logwarden
"""

import test_syslog_tls_rsyslog

if __name__ == "__main__":
    test_syslog_tls_rsyslog.main("ossl", restart=False)
