"""The notify feature: email (writing, limits, notices, reminders, digests, the Outbox page)
and webhooks, both subscribed to what the use cases announce."""
