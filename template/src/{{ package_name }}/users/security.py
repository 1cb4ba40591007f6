"""Password hashing: Argon2id through pwdlib.

Hashing is deliberately slow CPU work (tens of milliseconds), so the async functions run it
in a worker thread with asyncio.to_thread: the event loop keeps serving other requests
meanwhile (argon2-cffi releases the GIL while it computes).

A stored hash carries its algorithm and parameters, so they can be raised later without
breaking old hashes: `verify_and_rehash` answers a new hash whenever a stored one was made
with other parameters or another algorithm, for the caller to save.
"""

import asyncio
import base64
import binascii
import hashlib
import hmac

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher


class LegacyScryptHasher:
    """Verifies the `scrypt$n=…,r=…,p=…$<salt>$<hash>` format that earlier versions of the
    template stored, so that the users of an updated project can still log in; each such
    hash is replaced by an Argon2 one at its user's next successful check."""

    _PREFIX = "scrypt$"
    _MAX_MEMORY = 64 * 1024 * 1024

    @classmethod
    def identify(cls, hash: str | bytes) -> bool:  # noqa: A002 - pwdlib's protocol names it
        text = hash.decode(errors="replace") if isinstance(hash, bytes) else hash
        return text.startswith(cls._PREFIX)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        raise NotImplementedError("new hashes use Argon2; scrypt ones are only verified")

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:  # noqa: A002
        text = hash.decode(errors="replace") if isinstance(hash, bytes) else hash
        secret = password.encode() if isinstance(password, str) else password
        try:
            _, params, salt_text, key_text = text.split("$")
            values = dict(item.split("=", 1) for item in params.split(","))
            n, r, p = int(values["n"]), int(values["r"]), int(values["p"])
            salt, expected = _b64decode(salt_text), _b64decode(key_text)
            actual = hashlib.scrypt(
                secret, salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=self._MAX_MEMORY
            )
        except (ValueError, KeyError, binascii.Error):  # malformed, or refused by OpenSSL
            return False
        return bool(expected) and hmac.compare_digest(actual, expected)

    def check_needs_rehash(self, hash: str | bytes) -> bool:  # noqa: A002
        return True


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# The first hasher makes every new hash. OWASP's minimum for Argon2id (19 MiB, 2 passes)
# with one lane: argon2 computes each lane on a thread of its own, and the library's
# default of 4 lanes lets one login take 4 cores from the event loop and the other requests.
password_hash = PasswordHash(
    (Argon2Hasher(time_cost=2, memory_cost=19 * 1024, parallelism=1), LegacyScryptHasher())
)


def hash_password_blocking(password: str) -> str:
    """Hash `password` with a fresh salt. Blocks for a while: use `hash_password` in async code."""
    return password_hash.hash(password)


def verify_and_rehash_blocking(password: str, stored: str) -> tuple[bool, str | None]:
    """Whether `password` matches `stored` (False, after as much work, for a hash no hasher
    knows), and a new hash to store when `stored` was made with other parameters. Blocks
    like hashing."""
    if not any(hasher.identify(stored) for hasher in password_hash.hashers):
        password_hash.hash(password)  # the cost of a check all the same: time tells nothing
        return False, None
    return password_hash.verify_and_update(password, stored)


async def hash_password(password: str) -> str:
    """Hash `password` in a worker thread, off the event loop."""
    return await asyncio.to_thread(hash_password_blocking, password)


async def verify_and_rehash(password: str, stored: str) -> tuple[bool, str | None]:
    """`verify_and_rehash_blocking` in a worker thread, off the event loop."""
    return await asyncio.to_thread(verify_and_rehash_blocking, password, stored)


async def verify_password(password: str, stored: str) -> bool:
    """Check `password` against `stored` in a worker thread, off the event loop."""
    valid, _ = await verify_and_rehash(password, stored)
    return valid
