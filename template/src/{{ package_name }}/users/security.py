"""Password hashing with scrypt from the standard library.

Hashing is deliberately slow CPU work (tens of milliseconds), so the async functions run it
in a worker thread with asyncio.to_thread: the event loop keeps serving other requests
meanwhile (hashlib releases the GIL while it computes).

A stored hash is one string that carries everything needed to check it later:
`scrypt$n=16384,r=8,p=5$<salt>$<hash>` (salt and hash in unpadded URL-safe base64). The
parameters travel with each hash, so they can be raised later without breaking old hashes.
"""

import asyncio
import base64
import binascii
import hashlib
import hmac
import secrets

ALGORITHM = "scrypt"
# OWASP's minimum for scrypt: N=2**14 with r=8 and p=5 (16 MiB of memory per hash).
COST = 2**14
BLOCK_SIZE = 8
PARALLELISM = 5
SALT_BYTES = 16
KEY_BYTES = 32
_MAX_MEMORY = 64 * 1024 * 1024


def _scrypt(password: str, *, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=_MAX_MEMORY
    )


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password_blocking(password: str) -> str:
    """Hash `password` with a fresh salt. Blocks for a while: use `hash_password` in async code."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt=salt, n=COST, r=BLOCK_SIZE, p=PARALLELISM, length=KEY_BYTES)
    params = f"n={COST},r={BLOCK_SIZE},p={PARALLELISM}"
    return f"{ALGORITHM}${params}${_b64encode(salt)}${_b64encode(key)}"


def verify_password_blocking(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`; False for a malformed hash. Blocks like hashing."""
    try:
        algorithm, params, salt_text, key_text = stored.split("$")
        values = dict(item.split("=", 1) for item in params.split(","))
        n, r, p = int(values["n"]), int(values["r"]), int(values["p"])
        salt, expected = _b64decode(salt_text), _b64decode(key_text)
    except (ValueError, KeyError, binascii.Error):
        return False
    if algorithm != ALGORITHM or not expected:
        return False
    try:
        actual = _scrypt(password, salt=salt, n=n, r=r, p=p, length=len(expected))
    except ValueError:  # parameters OpenSSL refuses
        return False
    return hmac.compare_digest(actual, expected)


async def hash_password(password: str) -> str:
    """Hash `password` in a worker thread, off the event loop."""
    return await asyncio.to_thread(hash_password_blocking, password)


async def verify_password(password: str, stored: str) -> bool:
    """Check `password` against `stored` in a worker thread, off the event loop."""
    return await asyncio.to_thread(verify_password_blocking, password, stored)
