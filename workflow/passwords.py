"""The rules a new password must follow, one domain error per rule.

Long enough, not the username in disguise, and not one of the 10,000 passwords most often
found in leaks (``data/common-passwords.txt``, from zxcvbn's frequency list, MIT licence in
``data/common-passwords.LICENSE.txt``): the three checks NIST SP 800-63B asks for, without
composition rules that only make people write passwords down.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .errors import BadInput

MIN_LENGTH = 10
MAX_LENGTH = 200
COMMON_PASSWORDS = Path(__file__).with_name("data") / "common-passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list, lower-cased (read once per process)."""
    return frozenset(line.strip().lower() for line in COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
                     if line.strip())


def check_new_password(password: object, *, username: str) -> str:
    """``password`` when it follows every rule, else BadInput naming the first rule it breaks."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise BadInput("password_too_short", min=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise BadInput("password_too_long", max=MAX_LENGTH)
    if username and username.lower() in password.lower():
        raise BadInput("password_contains_username")
    if password.lower() in common_passwords():
        raise BadInput("password_too_common")
    return password
