"""``spasm serve``: the HTTP service (REST, CDS Hooks 2.0, FHIR) under uvicorn.

It binds to loopback unless told otherwise, requires authentication unless started with
``--insecure-dev`` (which it announces loudly, and allows on loopback only), and logs one line per
request with the path only: never a body or a query string. The service's libraries are imported
only when this command runs, so ``spasm --help`` stays quick.
"""
from __future__ import annotations

import ipaddress

import click

INSECURE_BANNER = """
!!! --insecure-dev: AUTHENTICATION IS OFF !!!
Anyone who can reach {url} can call every endpoint without a credential.
Use it on this machine only, to try the service out; never with real patients' data.
"""


class ConfigurationError(click.ClickException):
    """A bad option value, file or port: the contract's exit 2 (click's own default would be 1)."""

    exit_code = 2


def _not_installed(error: ImportError) -> ConfigurationError:
    return ConfigurationError(f"the service's libraries are not installed ({error.name}); "
                              "install them with: pip install 'spasm-expert[service]'")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (each compiles the knowledge base once).")
@click.option("--public-url", metavar="URL", help="The URL clients call (behind a proxy); JWT audiences "
                                                  "and card links use it. Default http://HOST:PORT.")
@click.option("--audit", metavar="FILE", default="spasm-audit.db", show_default=True,
              help="SQLite audit trail of assessments, cards and feedback.")
@click.option("--no-audit", is_flag=True, help="Keep no audit trail.")
@click.option("--audit-cases", is_flag=True, help="Store each case in the trail too (health data).")
@click.option("--keys", metavar="FILE", type=click.Path(exists=True, dir_okay=False),
              help="JSON: each trusted JWT issuer -> its public keys (JWK Set, JWK or PEM).")
@click.option("--tokens", metavar="FILE", type=click.Path(dir_okay=False), help="API tokens file (hashed).")
@click.option("--add-token", metavar="NAME", help="Create an API token called NAME in --tokens FILE, print it, "
                                                  "and exit.")
@click.option("--interview-app", metavar="URL", help="SMART app launch URL that continues the interview "
                                                     "(linked from cards).")
@click.option("--insecure-dev", is_flag=True, help="Switch authentication off (loopback only; for trying it out).")
@click.pass_obj
def serve(settings, host, port, workers, public_url, audit, no_audit, audit_cases, keys, tokens, add_token,
          interview_app, insecure_dev) -> None:
    """Serve Spasm Expert over HTTP: REST (/v1), CDS Hooks 2.0 (/cds-services), FHIR (/fhir).

    OpenAPI documentation is at /docs. Every endpoint except /healthz needs a bearer credential:
    a CDS Client's signed JWT (keys from --keys) or an API token (--tokens).

    \b
    Examples:
      spasm serve --tokens tokens.txt --add-token triage-portal   # prints the new token once
      spasm serve --tokens tokens.txt --keys ehr-keys.json
      spasm serve --insecure-dev                                  # on this machine, no authentication
    """
    if add_token is not None:  # an empty name is refused, never taken as "no --add-token"
        if not tokens:
            raise click.UsageError("--add-token needs --tokens FILE to add it to")
        try:
            from expert.service.auth import add_token as create
            from expert.service.settings import ConfigError
        except ImportError as error:
            raise _not_installed(error) from None
        try:
            token = create(tokens, add_token)
        except ConfigError as error:
            raise ConfigurationError(str(error)) from None
        click.echo(f"API token {add_token!r} added to {tokens} (only its SHA-256 is stored). "
                   f"Give it to the client now; it cannot be shown again:", err=True)
        click.echo(token)
        return
    try:
        from expert.service.app import create_app
        from expert.service.server import check_address, run
        from expert.service.settings import ConfigError, Settings
    except ImportError as error:
        raise _not_installed(error) from None
    if insecure_dev and not _loopback(host):
        raise click.UsageError("--insecure-dev binds to loopback only; drop it to serve on other addresses")
    config = Settings(host=host, port=port, workers=workers, public_url=public_url,
                      audit=None if no_audit else audit, audit_cases=audit_cases, keys=keys, tokens=tokens,
                      insecure_dev=insecure_dev, knowledge=settings.knowledge, interview_app=interview_app)
    try:
        app = create_app(config)  # checks keys, tokens and the trail now, before any worker starts
        check_address(host, port)  # bound here once, so a port in use is a message and not uvicorn's exit 3
        if insecure_dev:
            click.secho(INSECURE_BANNER.format(url=config.base_url), fg="red", bold=True, err=True)
        run(config, app)
    except ConfigError as error:  # the operator's to fix: exit 2; anything else is a bug (exit 1)
        raise ConfigurationError(str(error)) from None
