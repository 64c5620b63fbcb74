"""Security definitions applied to connections: one module per family, each registering its types.

``build_plan`` turns a definition into the ``SecurityPlan`` a connection follows. Heavy
libraries (requests-ntlm, lxml) are imported by the families that need them, when first used.
"""

from zato_outconn.security import challenge_schemes, header_schemes, mtls, oauth2, wsse  # noqa: F401 - they register
from zato_outconn.security.plan import SecurityPlan, plans

build_plan = plans.build

__all__ = ['SecurityPlan', 'build_plan', 'plans']
