"""The intake feature: a prospect's answers, their assessment, and the staff's work on them
(status, owner, notes, overrides, invites), the prospects list, impact and outcomes."""
