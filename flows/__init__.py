"""The pure core: field catalogue, validation rules and the conversation state machine.

Nothing in here does I/O, reads the clock or makes ids; time and ids arrive in a context object.
"""
