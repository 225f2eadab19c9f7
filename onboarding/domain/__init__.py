"""Pure domain logic: questionnaire, condition language, playbooks, assessment, agreement.

Nothing in this package imports Flask or the database; it runs from the command line
and in unit tests without an app.
"""
