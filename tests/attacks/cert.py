#!/usr/bin/env python3
"""A self-signed P-256 certificate and key for the tests, with the validity
and key usage a test asks for (openssl cannot date a certificate in the past).

    cert.py NAME OUT [expired | future | no-signing] [PASSWORD]

writes OUT.key (PEM), OUT.pem and OUT.p12 (password PASSWORD, default "pw").
  expired     valid for January 2020 only
  future      valid from 2099
  no-signing  key usage key encipherment only (no digital signature)
"""
import datetime
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

name, out = sys.argv[1], sys.argv[2]
kind = sys.argv[3] if len(sys.argv) > 3 else "plain"
password = (sys.argv[4] if len(sys.argv) > 4 else "pw").encode()

key = ec.generate_private_key(ec.SECP256R1())
now = datetime.datetime.now(datetime.timezone.utc)
start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)
if kind == "expired":
    start, end = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc), datetime.datetime(2020, 2, 1, tzinfo=datetime.timezone.utc)
elif kind == "future":
    start, end = datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc), datetime.datetime(2099, 12, 1, tzinfo=datetime.timezone.utc)
subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "formpress test")])
builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
           .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end))
if kind == "no-signing":
    builder = builder.add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=True,
                                                  data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                                  crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
else:
    builder = builder.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                                  data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                                  crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
cert = builder.sign(key, hashes.SHA256())
open(out + ".key", "wb").write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
open(out + ".pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(out + ".p12", "wb").write(pkcs12.serialize_key_and_certificates(
    name.encode(), key, cert, None, serialization.BestAvailableEncryption(password)))
