"""Handler addressed by a dotted path from the code folder."""

from legacy_app import helpers


def lambda_handler(event, context):
    return {"legacy": helpers.NAME}
