"""Secret-looking AWS credentials for the tests that check nothing the pack prints ever repeats them.

tests/core/test_secrets.py runs the CLI with them; tests/test_notebooks.py executes the whole workshop with them,
so every executed notebook and the report are checked too.
"""

SECRET_KEY = "SECRETVALUE123abcdefGHIJKLmnopqrstuvwxyz0"
SESSION_TOKEN = "SESSIONTOKEN456FwoGZXIvYXdzEJr//////////wEaDOkBIGsecret=="
SECRETS = {"AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_SESSION_TOKEN": SESSION_TOKEN, "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEKEYID0001"}


def leaks(text: str) -> list[str]:
    """The pieces of a secret (whole, first or last 16 characters) that ``text`` shows."""
    found = []
    for secret in (SECRET_KEY, SESSION_TOKEN):
        for piece in (secret, secret[:16], secret[-16:]):
            if piece in text:
                found.append(piece)
    return found
