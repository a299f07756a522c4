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
import os
import secrets
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from expert.documents import NO_WAIT, NotARegularFile, file_kind, open_regular
from expert.errors import json_kind

from .settings import ConfigError, os_reason

#: Signature algorithms accepted: asymmetric only (CDS Hooks forbids none and HMAC).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "jti")
LEEWAY = 30  # seconds of clock difference tolerated on exp and iat
#: Longest life a JWT may have (exp - iat): CDS Hooks asks clients for five minutes at most; an
#: hour leaves room for clock trouble, and bounds how long each used jti must be remembered.
MAX_LIFETIME = 3600
TOKEN_PREFIX = "spx_"
#: The curve each ES algorithm signs with (RFC 7518 section 3.4).
_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}


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


def _reason(error: OSError, path: str) -> str:
    """An OSError about ``path`` in words (no Python names)."""
    if isinstance(error, FileNotFoundError):
        parent = os.path.dirname(os.path.abspath(path))
        return "no such file" if os.path.isdir(parent) else f"the folder {parent} does not exist"
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, IsADirectoryError):
        return "it is a folder, not a file"
    return os_reason(error)


def _not_regular(path: str, option: str, kind: str) -> ConfigError:
    return ConfigError(f"{option} {path}: it is {kind}, not a regular file; name a text file")


def _refuse_special(path: str, option: str, mode: int) -> None:
    kind = file_kind(mode)
    if kind:
        raise _not_regular(path, option, kind)


def read_config_file(path: str, option: str) -> str:
    """The text of a file given to ``option``: a regular UTF-8 file, or a ConfigError naming it.

    Checked through the open descriptor, so a device, FIFO or folder is refused without being read
    from or waited on.
    """
    try:
        with open_regular(path) as stream:
            data = stream.read()
    except NotARegularFile as error:
        raise _not_regular(path, option, error.kind) from None
    except OSError as error:
        raise ConfigError(f"{option} {path}: {_reason(error, path)}") from None
    return _decoded(data, path, option)


def _decoded(data: bytes, path: str, option: str) -> str:
    """A config file's bytes as text (UTF-8, a byte-order mark allowed), or a ConfigError naming it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{option} {path}: not UTF-8 text (byte {error.start})") from None


#: The members each public JWK type needs (RFC 7518 section 6).
_JWK_MEMBERS = {"RSA": ("n", "e"), "EC": ("crv", "x", "y"), "OKP": ("crv", "x")}
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")
_PUBLIC_KEYS = (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)


def _pem_key(text: str) -> Any:
    if "PRIVATE KEY" in text:
        raise ConfigError("a private key; only public keys belong in the keys file")
    try:
        key = serialization.load_pem_public_key(text.encode("utf-8"))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigError("not a readable PEM public key (expected -----BEGIN PUBLIC KEY----- ...)") from None
    if not isinstance(key, _PUBLIC_KEYS):
        raise ConfigError("the PEM key is of a type JWTs are not signed with; use RSA, EC or Ed25519")
    return key


def _jwk_key(jwk: Any, where: str) -> tuple[str | None, Any]:
    if not isinstance(jwk, dict) or not jwk:
        raise ConfigError(f"{where} must be a JWK (a JSON object with kty), got "
                          f"{'an empty object' if jwk == {} else json_kind(jwk)}")
    kty = jwk.get("kty")
    if kty == "oct" or any(member in jwk for member in _PRIVATE_MEMBERS):
        raise ConfigError(f"{where} is a secret or private key; only public asymmetric keys belong in the keys file")
    if kty not in _JWK_MEMBERS:
        raise ConfigError(f"{where} has no kty" if kty is None else
                          f"{where} has kty {json.dumps(kty)}; expected RSA, EC or OKP")
    missing = [m for m in _JWK_MEMBERS[kty] if not isinstance(jwk.get(m), str) or not jwk[m]]
    if missing:
        raise ConfigError(f"{where} ({kty}) lacks {', '.join(missing)}")
    if jwk.get("alg") is not None and jwk["alg"] not in ALGORITHMS:
        raise ConfigError(f"{where} has alg {json.dumps(jwk['alg'])}; accepted: {', '.join(ALGORITHMS)}")
    if jwk.get("kid") is not None and not isinstance(jwk["kid"], str):
        raise ConfigError(f"{where} has a kid that is not text")
    try:
        key = jwt.PyJWK.from_dict(jwk).key
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise ConfigError(f"{where} is not a valid {kty} public key ({error})") from None
    if not isinstance(key, _PUBLIC_KEYS):
        raise ConfigError(f"{where} is not a public key JWTs are signed with")
    return jwk.get("kid"), key


def _issuer_keys(entry: Any) -> list[tuple[str | None, Any]]:
    """(kid, key) pairs from a JWK Set, one JWK, or PEM text; every key parsed now, so a bad one
    stops the start instead of failing the requests it signs."""
    if isinstance(entry, str):
        return [(None, _pem_key(entry))]
    if isinstance(entry, dict) and "keys" in entry:
        jwks = entry["keys"]
        if not isinstance(jwks, list) or not jwks:
            raise ConfigError("\"keys\" must be a non-empty list of JWKs, got "
                              f"{'an empty list' if jwks == [] else json_kind(jwks)}")
        return [_jwk_key(jwk, f"key {number}") for number, jwk in enumerate(jwks, 1)]
    if isinstance(entry, dict):
        return [_jwk_key(entry, "the key")]
    raise ConfigError(f"expected a JWK Set, a JWK or a PEM public key, got {json_kind(entry)}")


def load_keys(path: str) -> dict[str, list[tuple[str | None, Any]]]:
    """The keys file: {"<iss>": JWKS | JWK | "-----BEGIN PUBLIC KEY-----..."}; ConfigError naming
    the file, the issuer and the fault."""
    text = read_config_file(path, "--keys")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"--keys {path}: not valid JSON ({error.msg} at line {error.lineno}, "
                          f"column {error.colno})") from None
    except RecursionError:
        raise ConfigError(f"--keys {path}: not valid JSON (nested too deeply)") from None
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"--keys {path}: expected a JSON object mapping each issuer to its public keys")
    keys = {}
    for issuer, entry in data.items():
        try:
            if not issuer.strip():
                raise ConfigError("an issuer must be its URL, not empty")
            keys[issuer] = _issuer_keys(entry)
        except ConfigError as error:
            raise ConfigError(f"--keys {path}: issuer {json.dumps(issuer)}: {error}") from None
    return keys


def hash_token(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def _parse_tokens(text: str, path: str) -> dict[str, str]:
    tokens = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].startswith("sha256:") or len(parts[1]) != 71:
            raise ConfigError(f"--tokens {path}:{number}: expected 'NAME sha256:<64 hex digits>'")
        tokens[parts[1]] = parts[0]
    return tokens


def load_tokens(path: str) -> dict[str, str]:
    """The tokens file: ``NAME sha256:HEX`` per line (# comments) -> {hash: name}."""
    return _parse_tokens(read_config_file(path, "--tokens"), path)


def add_token(path: str, name: str) -> str:
    """Create a token called ``name``, append its hash to the tokens file, return the token (shown once).

    Only a regular file is written, and only one this user created or owns is made private (0600):
    the file is opened without waiting and checked through its descriptor, so a device or FIFO
    given as the file is refused unchanged (a chmod of /dev/null would break the machine).
    """
    if not name.strip():
        raise ConfigError("a token name cannot be empty; give one word, e.g. triage-portal")
    if any(c.isspace() for c in name) or not name.isprintable() or name.startswith("#"):
        raise ConfigError("a token name is one word of printable characters, not starting with #, "
                          "e.g. triage-portal")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        if os.path.lexists(path):
            _refuse_special(path, "--tokens", os.stat(path).st_mode)
        try:
            descriptor, created = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL | NO_WAIT,
                                          0o600), True
        except FileExistsError:
            descriptor, created = os.open(path, os.O_RDWR | os.O_APPEND | NO_WAIT), False
    except OSError as error:
        raise ConfigError(f"--tokens {path}: {_reason(error, path)}") from None
    with os.fdopen(descriptor, "r+b", buffering=0) as stream:
        info = os.fstat(stream.fileno())
        _refuse_special(path, "--tokens", info.st_mode)
        text = _decoded(stream.read(), path, "--tokens")
        if name in _parse_tokens(text, path).values():
            raise ConfigError(f"{path} already has a token called {name}")
        separator = "\n" if text and not text.endswith("\n") else ""  # never glue onto an unfinished line
        stream.write(f"{separator}{name} {hash_token(token)}\n".encode("utf-8"))
        if hasattr(os, "fchmod") and (created or info.st_uid == getattr(os, "geteuid", lambda: -1)()):
            os.fchmod(stream.fileno(), 0o600)
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
        keys = [key for key in keys if _signs_with(key, algorithm)]
        if not keys:
            raise AuthError(401, f"no key of this issuer is for the JWT's algorithm {algorithm}")
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
            except jwt.InvalidKeyError as error:  # a key that cannot check this JWT: try the next one
                last = error
            except jwt.PyJWTError as error:
                raise AuthError(401, f"the JWT was refused: {error}") from None
        else:
            raise AuthError(401, "the JWT's signature does not match the issuer's keys") from last
        try:  # PyJWT accepts numeric text such as "5" for times; compare them as numbers
            issued, expires = float(verified["iat"]), float(verified["exp"])
        except (TypeError, ValueError, OverflowError):
            raise AuthError(401, "the JWT's iat and exp must be numbers") from None
        if issued > expires:
            raise AuthError(401, "the JWT was issued after it expires")
        if expires - issued > MAX_LIFETIME:
            raise AuthError(401, f"the JWT lives longer than {MAX_LIFETIME // 60} minutes (exp - iat); CDS Hooks "
                                 "asks for five minutes at most")
        if not _text(verified["jti"]) or not verified["jti"]:
            raise AuthError(401, "the JWT's jti must be a non-empty string")
        subject = verified.get("sub")
        if subject is not None and not _text(subject):
            raise AuthError(401, "the JWT's sub must be a string")
        if not self.replay_guard.first_use(issuer, verified["jti"], expires):
            raise AuthError(401, "this JWT (jti) has been used before")
        return Client(f"{issuer} {subject}" if subject else str(issuer), "jwt")


def _text(value: Any) -> bool:
    """A string that can be stored (a lone surrogate from JSON cannot be encoded, so would fail the trail)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _signs_with(key: Any, algorithm: str) -> bool:
    """Whether ``key`` can check a signature made with ``algorithm`` (so PyJWT is never handed a
    key of the wrong type, which it may fail on with an error that is no refusal)."""
    if algorithm.startswith(("RS", "PS")):
        return isinstance(key, rsa.RSAPublicKey)
    if algorithm.startswith("ES"):
        return isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == _CURVES.get(algorithm)
    return isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey))
