"""``pybpf guard``: detect and prevent from inside the kernel, by a YAML policy.

``load_policy(path)`` checks a policy file (errors name the line and field);
``Guard(policy, emit).start()`` enforces it with tracepoint and cgroup programs (see
:mod:`.programs` for how each rule is matched and acted on in the kernel) and hands each
event to ``emit`` as a dict. docs/guard.md has the schema and the event fields.
"""

from .engine import Guard
from .policy import ACTIONS, KINDS, Policy, PolicyError, Rule, load_policy, parse_policy

__all__ = ["Guard", "Policy", "PolicyError", "Rule", "load_policy", "parse_policy", "KINDS",
           "ACTIONS"]
