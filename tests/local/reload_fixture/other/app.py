import os


def lambda_handler(event, context):
    return {"pid": os.getpid()}
