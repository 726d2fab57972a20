"""Throwaway TLS certificates for a test redis-server (needs ``cryptography``)."""
from __future__ import annotations

import datetime
import ipaddress
import os
from typing import List, NamedTuple


class Certificates(NamedTuple):
    ca: str
    cert: str
    key: str


def server_options(tls: Certificates, port: int) -> List[str]:
    """redis-server options for a TLS port beside the plain one, with ``tls``'s files;
    replication (and a sentinel's links to the servers) over TLS too. Clients need no
    certificate of their own."""
    return ["--tls-port", str(port), "--tls-cert-file", tls.cert, "--tls-key-file", tls.key,
            "--tls-ca-cert-file", tls.ca, "--tls-auth-clients", "no", "--tls-replication", "yes"]


def make_certificates(directory: str) -> Certificates:
    """A CA and a server certificate for ``localhost``/``127.0.0.1``, as PEM files.

    They carry the key identifiers and key usages that strict verification asks for
    (Python 3.13 turns it on by default), as a real CA's do."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def build(subject: str, issuer_name: x509.Name, key: ec.EllipticCurvePrivateKey,
              signer: ec.EllipticCurvePrivateKey, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False)
            .add_extension(x509.KeyUsage(
                digital_signature=not ca, key_cert_sign=ca, crl_sign=ca, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
                decipher_only=False), critical=True)
        )
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            builder = builder.add_extension(x509.ExtendedKeyUsage(  # nodes also connect to each other with it
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "redis-checkpoint test CA")])
    ca_cert = build("redis-checkpoint test CA", ca_name, ca_key, ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build("localhost", ca_name, key, ca_key, False)
    paths = Certificates(*(os.path.join(directory, n) for n in ("ca.pem", "server.pem", "server.key")))
    with open(paths.ca, "wb") as fh:
        fh.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    with open(paths.cert, "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths.key, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                   serialization.NoEncryption()))
    return paths
