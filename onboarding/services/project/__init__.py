"""The project after the signature (issue 30): the plan, updates, sign-offs and decisions
of a countersigned agreement, tracked without retyping.

- :mod:`.state` finds a project (never before the countersignature) and reads it: the
  plan as agreed (:mod:`onboarding.domain.project`) with what changed since, the updates,
  the sign-offs with their review windows and rounds, the decisions log;
- :mod:`.actions` are the use cases (post an update, change a milestone, ask for and
  answer a sign-off); each records one :class:`~onboarding.db.models.ProjectEntry` and
  announces its signal (mail and webhooks subscribe). Callers commit.
"""
