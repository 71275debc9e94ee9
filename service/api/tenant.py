"""The tenant a request acts for: the one its API key belongs to (:mod:`service.middleware.api_key`), or the one tenant
of a server without keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.tenants import DEFAULT_TENANT


def tenant_of(request: Request) -> str:
    """The request's tenant."""
    return str(request.scope.get("state", {}).get("tenant", DEFAULT_TENANT))


#: A route parameter that is the request's tenant.
Tenant = Annotated[str, Depends(tenant_of)]
