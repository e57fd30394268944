class LifecycleError(Exception):
    """A device move that was refused, with a message a technician can act on.

    ``code`` tells surfaces how to answer: "invalid" (the guard said no, 400), "conflict" (someone else
    moved the device first, 409), "forbidden" (outside the actor's hubs, 403/404).
    """

    def __init__(self, message: str, *, code: str = "invalid", field_errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field_errors = field_errors or {}
