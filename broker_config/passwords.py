"""Mosquitto's password file: random device passwords, hashed as mosquitto_passwd does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

PBKDF2_ITERATIONS = 101  # what mosquitto_passwd writes by default
SALT_BYTES = 12  # Mosquitto drops a $7$ line whose salt is not 12 bytes

def new_password() -> str:
    """A random password for a device: 24 URL-safe characters (about 143 bits)."""
    return secrets.token_urlsafe(18)

def password_line(user: str, password: str, *, salt: bytes | None = None,
                  iterations: int = PBKDF2_ITERATIONS) -> str:
    """One line of a Mosquitto password file, hashed as mosquitto_passwd does ($7$)."""
    if ":" in user:
        raise ValueError(f"a Mosquitto user name cannot contain ':': {user!r}")
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    if len(salt) != SALT_BYTES:
        raise ValueError(f"the salt must be {SALT_BYTES} bytes")
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, 64)
    b64 = base64.b64encode
    return f"{user}:$7${iterations}${b64(salt).decode()}${b64(digest).decode()}"

def check_password_line(line: str, password: str) -> bool:
    """Whether `password` matches a $7$ password-file line (for rotation and checks)."""
    _user, _, encoded = line.strip().partition(":")
    parts = encoded.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    try:
        iterations, salt, digest = int(parts[2]), base64.b64decode(parts[3]), base64.b64decode(parts[4])
    except ValueError:  # binascii.Error is a ValueError too
        return False
    candidate = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, 64)
    return hmac.compare_digest(candidate, digest)

def parse_password_file(text: str) -> dict[str, str]:
    """user → its whole line, from a Mosquitto password file."""
    return {line.partition(":")[0]: line for line in text.splitlines() if ":" in line}

def password_file_text(passwords: dict[str, str], previous: str = "") -> str:
    """The password file; a user whose password did not change keeps its old line (and salt),
    so that regenerating leaves the file byte for byte as it was."""
    old = parse_password_file(previous)
    lines = []
    for user, password in sorted(passwords.items()):
        line = old.get(user)
        if line is None or not check_password_line(line, password):
            line = password_line(user, password)
        lines.append(line + "\n")
    return "".join(lines)
