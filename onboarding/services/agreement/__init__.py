"""The agreement feature: engagement terms, composing and rendering the agreement, sending it,
the client's answers (changes, acceptance), the countersignature, issued files and
verification."""
