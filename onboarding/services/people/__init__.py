"""The people feature: staff accounts, sign-in and its limits, MFA, API tokens and the
security log."""
