#!/usr/bin/env python3
"""tests/lib/idpbuilder_cert.py DIR [--expired]: DIR/tls.crt and DIR/tls.key
as idpbuilder makes them (pkg/build/tls.go): one self-signed ECDSA P-256
certificate, a CA (IsCA, certificate signing), for cnoe.localtest.me and
*.cnoe.localtest.me, valid 8766 hours from its creation and never renewed.
For the tests it also names IP 127.0.0.1 (idpbuilder's does not), so that
they may reach the ingress by address. --expired: made 400 days ago, it
ended 30 days ago (a cluster older than a year)."""

import datetime
import ipaddress
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def main():
    d, expired = sys.argv[1], sys.argv[2:] == ["--expired"]
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cnoe.io"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "cnoe.localtest.me")])
    now = datetime.datetime.utcnow()
    if expired:
        start, end = now - datetime.timedelta(days=400), now - datetime.timedelta(days=30)
    else:
        start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(hours=8766)
    san = [x509.DNSName("cnoe.localtest.me"), x509.DNSName("*.cnoe.localtest.me"),
           x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          key_cert_sign=True, crl_sign=False, encipher_only=False,
                          decipher_only=False)
    crt = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
           .public_key(key.public_key()).serial_number(x509.random_serial_number())
           .not_valid_before(start).not_valid_after(end)
           .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
           .add_extension(usage, critical=True)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                          critical=False)
           .add_extension(x509.SubjectAlternativeName(san), critical=False)
           .sign(key, hashes.SHA256()))
    with open(d + "/tls.crt", "wb") as f:
        f.write(crt.public_bytes(serialization.Encoding.PEM))
    with open(d + "/tls.key", "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()))


if __name__ == "__main__":
    main()
