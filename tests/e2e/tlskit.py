"""tlskit.py: certificates for the TLS tests, made with the openssl CLI in a temporary folder:
a CA, server certificates (with SAN localhost and 127.0.0.1, and a serial of the test's choice),
client certificates from that CA (one of them expired) and from another CA."""

import os
import subprocess

CA_CNF = """[ca]
default_ca = c
[c]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}
serial = {dir}/serial
default_md = sha256
policy = p
copy_extensions = copy
unique_subject = no
[p]
commonName = supplied
"""


def _openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {r.stderr}")
    return r.stdout


class Pki:
    """Files under dir: NAME.crt and NAME.key for every certificate made."""

    def __init__(self, dir):
        self.dir = dir
        os.makedirs(dir, exist_ok=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def ca(self, name, cn):
        """A self-signed CA and an `openssl ca` database for it."""
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
                 "-out", f"{name}.crt", "-days", "2", "-subj", f"/CN={cn}",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.dir)
        db = self.path(f"{name}.db")
        os.makedirs(db, exist_ok=True)
        open(os.path.join(db, "index.txt"), "w").close()
        with open(os.path.join(db, "serial"), "w") as f:
            f.write("1000\n")
        with open(os.path.join(db, "ca.cnf"), "w") as f:
            f.write(CA_CNF.format(dir=db))
        return self.path(f"{name}.crt")

    def cert(self, name, ca, cn, serial, server=False, start=None, end=None):
        """A certificate signed by CA `ca`, with the given serial (hex digits) and, for an
        expired one, start and end dates (YYYYMMDDHHMMSSZ)."""
        ext = ["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"] if server else []
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
                 f"{name}.csr", "-subj", f"/CN={cn}", *ext, cwd=self.dir)
        db = self.path(f"{ca}.db")
        with open(os.path.join(db, "serial"), "w") as f:
            f.write(f"{serial}\n")
        dates = ["-startdate", start, "-enddate", end] if start else ["-days", "2"]
        _openssl("ca", "-config", os.path.join(db, "ca.cnf"), "-batch", "-notext",
                 "-cert", f"{ca}.crt", "-keyfile", f"{ca}.key", "-in", f"{name}.csr",
                 "-out", f"{name}.crt", *dates, cwd=self.dir)
        return self.path(f"{name}.crt"), self.path(f"{name}.key")
