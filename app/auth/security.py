"""Password hashing (argon2) and opaque bearer tokens stored only as keyed hashes."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from functools import lru_cache
from typing import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from app.core.config import get_settings

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
# zxcvbn's score 3 is "safely unguessable: moderate protection from offline attack" (10^8 guesses and up).
MIN_ZXCVBN_SCORE = 3
# zxcvbn's work grows with length; past this a password's tail adds nothing to the judgement.
ZXCVBN_MAX_LENGTH = 72


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    # Keyed, so a copy of the database alone cannot be used to recognise tokens.
    return hmac.new(get_settings().secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


def password_problem(password: str, user_inputs: Iterable[str] = ()) -> str | None:
    """Why a new password will not do, or None. Common passwords, and ones too like them (a common
    word with digits, a keyboard run, the person's own name or email), are refused using zxcvbn's
    lists of leaked passwords, names and words, which ship inside the pinned package."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must be at least {MIN_PASSWORD_LENGTH} characters long"
    if len(set(password)) < 4:
        return "the password repeats too few characters: choose a longer passphrase"
    words = [w for text in user_inputs for w in re.split(r"[^\w]+", text.lower()) if len(w) >= 3]
    estimate = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=words)
    if password.lower() in _common_passwords() or estimate["score"] < MIN_ZXCVBN_SCORE:
        warning = (estimate["feedback"].get("warning") or "it is too easy to guess").rstrip(".")
        return (
            f"the password is a common one, or too like one, and would be guessed quickly "
            f"({warning[0].lower()}{warning[1:]}). "
            "Choose a passphrase of three or four unrelated words"
        )
    return None


@lru_cache
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])
