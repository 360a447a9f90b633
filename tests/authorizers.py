"""An authorizer for tests: refuses the ``resource:action`` pairs it is configured with and allows
everything else, so a test can take one permission away from a user with a valid token."""

from __future__ import annotations

from jupyter_server.auth.authorizer import Authorizer
from traitlets import List, Unicode


class DenyingAuthorizer(Authorizer):
    """``--ServerApp.authorizer_class=tests.authorizers.DenyingAuthorizer
    --DenyingAuthorizer.denied=kernels:read``."""

    denied = List(Unicode(), help="resource:action pairs to refuse, e.g. api:read").tag(config=True)

    def is_authorized(self, handler, user, action: str, resource: str) -> bool:
        return f"{resource}:{action}" not in self.denied
