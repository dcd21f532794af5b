"""A handler that imports a module shipped in a layer."""
from shared_lib.greeting import greet


def lambda_handler(event, context):
    return {"message": greet(event["name"])}
