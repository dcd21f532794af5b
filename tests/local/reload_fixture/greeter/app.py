import os

from shared_lib import punctuation

VERSION = 1


def lambda_handler(event, context):
    print(f"greeting version {VERSION}")
    return {"version": VERSION, "greeting": os.environ["GREETING"] + punctuation(), "pid": os.getpid()}
