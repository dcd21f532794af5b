def punctuation():
    return "!"
