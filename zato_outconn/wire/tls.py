"""TLS material a connection needs as files only for a moment: its CA bundle and client certificate."""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile

from urllib3.util.ssl_ import create_urllib3_context


class ClientCertificate:
    """A client certificate and its private key (mTLS), kept in memory as PEM text.

    ssl can load a certificate chain from files only, so the PEM is written to a private folder
    just long enough to load it into an SSL context, and removed at once.
    """

    def __init__(self, definition: str, cert_pem: str, key_pem: str, key_password: str | None) -> None:
        self.definition = definition
        self._cert_pem = cert_pem
        self._key_pem = key_pem
        self._key_password = key_password

    def __repr__(self) -> str:
        return f'<ClientCertificate {self.definition!r}>'

    def ssl_context(self) -> ssl.SSLContext:
        context = create_urllib3_context()
        # urllib3 sets verify_mode on this shared context for each connection, from the call's verify
        # setting, and matches the host name itself when the context does not. Left on, check_hostname
        # would make every call with validate_tls off fail: ssl refuses CERT_NONE together with it.
        context.check_hostname = False
        folder = tempfile.mkdtemp(prefix='zato-outconn-mtls-')  # mode 0700
        try:
            cert_path, key_path = os.path.join(folder, 'cert.pem'), os.path.join(folder, 'key.pem')
            for path, pem in ((cert_path, self._cert_pem), (key_path, self._key_pem)):
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, 'w', encoding='ascii') as pem_file:
                    pem_file.write(pem)
            context.load_cert_chain(cert_path, key_path, password=self._key_password or None)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return context


class CABundleFile:
    """The template's CA bundle written to a private temporary file, as requests needs a path."""

    def __init__(self, pem: str) -> None:
        descriptor, self.path = tempfile.mkstemp(prefix='zato-outconn-ca-', suffix='.pem')
        with os.fdopen(descriptor, 'w', encoding='ascii') as bundle:
            bundle.write(pem)

    def remove(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
