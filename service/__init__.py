"""Spasm Expert over HTTP: REST, CDS Hooks 2.0 and FHIR (SDC $next-question), with an audit trail.

``spasm serve`` runs it. Nothing is imported here, so ``expert.service.settings`` and
``expert.service.trail`` (which ``spasm audit`` reads) load without the service's libraries.
"""
