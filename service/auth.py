"""Who is calling: CDS Hooks client JWTs, or API tokens kept hashed.

CDS Hooks 2.0 ("Trusting CDS Clients"): every call carries ``Authorization: Bearer <JWT>`` signed
with the client's private key (asymmetric algorithms only: never ``none``, never HMAC). The
service runs offline, so it never fetches a ``jku``: the public keys are configured per issuer in
a keys file (``--keys``), a JSON object mapping each trusted ``iss`` to a JWK Set, a single JWK, or
a PEM public key. ``iss``, ``aud`` (the URL of the endpoint called), ``exp``, ``iat`` and ``jti``
are required; a ``jti`` is accepted once.

REST and FHIR endpoints also take API tokens (``--tokens``): a file of ``NAME sha256:HEX`` lines,
written by ``spasm serve --add-token NAME``. Only the SHA-256 of each token is kept; tokens are
256-bit random strings, so a fast hash is enough. CDS Hooks endpoints require a JWT, as the
specification says; an API token there is refused with 403.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

#: Signature algorithms accepted: asymmetric only (CDS Hooks forbids none and HMAC).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "jti")
LEEWAY = 30  # seconds of clock difference tolerated on exp and iat
TOKEN_PREFIX = "spx_"


class AuthError(Exception):
    """A refused credential: 401 (missing or invalid) or 403 (valid, but not allowed here)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Client:
    """An authenticated caller, named for the audit trail."""

    name: str
    kind: str  # "jwt", "token" or "insecure"


INSECURE = Client("insecure-dev", "insecure")


def _issuer_keys(issuer: str, entry: Any) -> list[tuple[str | None, Any]]:
    """(kid, key) pairs from a JWK Set, one JWK, or PEM text."""
    if isinstance(entry, str):
        if "PRIVATE KEY" in entry or "BEGIN" not in entry:
            raise ValueError(f"keys for {issuer}: expected a PEM public key")
        return [(None, entry)]
    jwks = entry["keys"] if isinstance(entry, dict) and isinstance(entry.get("keys"), list) else [entry]
    pairs = []
    for jwk in jwks:
        key = jwt.PyJWK.from_dict(jwk)
        if jwk.get("d") is not None or jwk.get("kty") == "oct":
            raise ValueError(f"keys for {issuer}: only public asymmetric keys belong in the keys file")
        pairs.append((jwk.get("kid"), key.key))
    return pairs


def load_keys(path: str) -> dict[str, list[tuple[str | None, Any]]]:
    """The keys file: {"<iss>": JWKS | JWK | "-----BEGIN PUBLIC KEY-----..."}."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{path}: expected a JSON object mapping each issuer to its public keys")
    return {issuer: _issuer_keys(issuer, entry) for issuer, entry in data.items()}


def hash_token(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def load_tokens(path: str) -> dict[str, str]:
    """The tokens file: ``NAME sha256:HEX`` per line (# comments) -> {hash: name}."""
    tokens = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].startswith("sha256:") or len(parts[1]) != 71:
            raise ValueError(f"{path}:{number}: expected 'NAME sha256:<64 hex digits>'")
        tokens[parts[1]] = parts[0]
    return tokens


def add_token(path: str, name: str) -> str:
    """Create a token called ``name``, append its hash to the tokens file, return the token (shown once)."""
    if not name or any(c.isspace() for c in name):
        raise ValueError("a token name is one word, e.g. triage-portal")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    file = Path(path)
    existing = load_tokens(path) if file.exists() else {}
    if name in existing.values():
        raise ValueError(f"{path} already has a token called {name}")
    with file.open("a", encoding="utf-8") as stream:
        stream.write(f"{name} {hash_token(token)}\n")
    file.chmod(0o600)
    return token


class Authenticator:
    """Checks the bearer credential of a request against the configured keys and tokens."""

    def __init__(self, keys: dict[str, list] | None, tokens: dict[str, str] | None, replay_guard,
                 insecure: bool = False):
        self.keys, self.tokens = keys or {}, tokens or {}
        self.replay_guard = replay_guard
        self.insecure = insecure

    def authenticate(self, authorization: str | None, audience: str, jwt_only: bool = False) -> Client:
        """The client behind an Authorization header for a call to ``audience`` (the URL called)."""
        if self.insecure:
            return INSECURE
        if not authorization:
            raise AuthError(401, "this endpoint needs Authorization: Bearer <JWT or API token>")
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise AuthError(401, "use the Bearer scheme: Authorization: Bearer <JWT or API token>")
        if credential.count(".") == 2:
            return self._jwt(credential, audience)
        if jwt_only:
            if self._token(credential) is not None:
                raise AuthError(403, "CDS Hooks calls must carry the client's signed JWT, not an API token")
            raise AuthError(401, "CDS Hooks calls must carry the client's signed JWT")
        name = self._token(credential)
        if name is None:
            raise AuthError(401, "unknown or revoked API token")
        return Client(name, "token")

    def _token(self, credential: str) -> str | None:
        digest = hash_token(credential)
        for known, name in self.tokens.items():
            if hmac.compare_digest(known, digest):
                return name
        return None

    def _jwt(self, token: str, audience: str) -> Client:
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AuthError(401, "the bearer token is not a well-formed JWT") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise AuthError(401, f"JWT algorithm {algorithm!r} is not accepted; use an asymmetric one such as "
                                 "ES384 or RS384")
        issuer = claims.get("iss")
        candidates = self.keys.get(issuer) if isinstance(issuer, str) else None
        if not candidates:
            raise AuthError(401, "the JWT's issuer (iss) is not trusted by this service")
        kid = header.get("kid")
        keys = [key for key_id, key in candidates if kid is None or key_id in (None, kid)]
        if not keys:
            raise AuthError(401, "no key of this issuer has the JWT's kid")
        last: Exception | None = None
        for key in keys:
            try:
                verified = jwt.decode(token, key, algorithms=[algorithm], audience=audience, issuer=issuer,
                                      leeway=LEEWAY, options={"require": list(REQUIRED_CLAIMS)})
                break
            except jwt.InvalidSignatureError as error:
                last = error
            except jwt.ExpiredSignatureError:
                raise AuthError(401, "the JWT has expired") from None
            except jwt.InvalidAudienceError:
                raise AuthError(401, f"the JWT's audience (aud) must be the URL called: {audience}") from None
            except jwt.MissingRequiredClaimError as error:
                raise AuthError(401, f"the JWT lacks the {error.claim} claim") from None
            except jwt.PyJWTError as error:
                raise AuthError(401, f"the JWT was refused: {error}") from None
        else:
            raise AuthError(401, "the JWT's signature does not match the issuer's keys") from last
        if verified["iat"] > verified["exp"]:
            raise AuthError(401, "the JWT was issued after it expires")
        if not isinstance(verified["jti"], str) or not verified["jti"]:
            raise AuthError(401, "the JWT's jti must be a non-empty string")
        if not self.replay_guard.first_use(issuer, verified["jti"], float(verified["exp"])):
            raise AuthError(401, "this JWT (jti) has been used before")
        subject = verified.get("sub")
        return Client(f"{issuer} {subject}" if subject else str(issuer), "jwt")
