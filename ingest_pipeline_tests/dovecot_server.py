"""A real Dovecot IMAP server for tests, on 127.0.0.1 with a configuration of its own.

Dovecot comes from Debian's packages (``.ci/run`` installs ``dovecot-imapd`` when it is
missing). Each server gets a fresh folder holding its configuration, a certificate for
127.0.0.1 from a throw-away CA (the tests trust it through the CA's file), a passwd-file with the
test users, and their Maildirs. It listens for STARTTLS on one port and implicit TLS on
another; plain-text login is allowed (the source refuses it without TLS unless told it is on
localhost). ``stop()`` and ``start()`` stop and restart the same server with the same mail.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest_pipeline_tests.fakes.graph_tls import write_test_pki
from ingest_pipeline_tests.server_process import HOST, ServerProcess, free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def require_dovecot() -> str:
    """Dovecot's binary; skip without it, fail under CI (CI installs it)."""
    if os.path.isfile(DOVECOT) and os.access(DOVECOT, os.X_OK):
        return DOVECOT
    message = "IMAP tests need Dovecot (apt-get install dovecot-imapd)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: a missing Dovecot is an error, not a skip)")
    pytest.skip(message)


class DovecotServer:
    """One Dovecot instance: ``starttls_port`` (143-style) and ``tls_port`` (993-style)."""

    def __init__(self, users: dict[str, str], *, introspection_url: str | None = None) -> None:
        require_dovecot()
        # Not under pytest's 0700 temp folders: Dovecot's own users must reach the Maildirs.
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-test-"))
        self.root.chmod(0o755)
        self.starttls_port, self.tls_port = free_port(), free_port()
        tls = write_test_pki(self.root)
        self.ca_file = tls.ca_path
        owner = pwd.getpwnam("dovecot") if os.geteuid() == 0 else pwd.getpwuid(os.getuid())
        login = "dovenull" if os.geteuid() == 0 else owner.pw_name
        (self.root / "users").write_text(
            "".join(f"{user}:{{PLAIN}}{password}::::::\n" for user, password in users.items())
        )
        home = self.root / "home"
        home.mkdir()
        for folder in (self.root / "run", self.root / "state"):
            folder.mkdir()
        if os.geteuid() == 0:
            os.chown(home, owner.pw_uid, owner.pw_gid)
        self.config = self.root / "dovecot.conf"
        self.config.write_text(
            f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = {HOST}
default_internal_user = {owner.pw_name}
default_login_user = {login}
ssl = yes
ssl_cert = <{tls.cert_path}
ssl_key = <{tls.key_path}
disable_plaintext_auth = no
first_valid_uid = 1
first_valid_gid = 1
auth_mechanisms = plain login{" xoauth2 oauthbearer" if introspection_url else ""}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
{self._oauth2_passdb(introspection_url)}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={home}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {HOST}
    port = {self.starttls_port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {self.tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
"""
        )
        self._process = ServerProcess(
            "dovecot",
            [DOVECOT, "-F", "-c", str(self.config)],
            log=self.root / "stdout.log",
            ports=[self.tls_port, self.starttls_port],
            log_tail=self.log_tail,
        )

    def _oauth2_passdb(self, introspection_url: str | None) -> str:
        """XOAUTH2 / OAUTHBEARER: a token is good when the introspection URL says so."""
        if not introspection_url:
            return ""
        settings = self.root / "oauth2.conf.ext"
        settings.write_text(
            f"introspection_mode = post\nintrospection_url = {introspection_url}\n"
            "username_attribute = username\nactive_attribute = active\nactive_value = true\n"
        )
        return (
            "passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
            f"  args = {settings}\n}}\n"
        )

    def start(self) -> None:
        self._process.start()

    def stop(self) -> None:
        self._process.stop()

    def log_tail(self, chars: int = 3000) -> str:
        text = ""
        for name in ("dovecot.log", "stdout.log"):
            path = self.root / name
            if path.exists():
                text += path.read_text(errors="replace")[-chars:]
        return text

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def dovecot(
    users: dict[str, str], *, introspection_url: str | None = None
) -> Iterator[DovecotServer]:
    """A started Dovecot with ``users`` (name → password), removed afterwards; with an
    ``introspection_url`` it also takes XOAUTH2 tokens that URL vouches for."""
    server = DovecotServer(users, introspection_url=introspection_url)
    try:
        server.start()
        yield server
    finally:
        server.close()
