"""WTForms classes of the browser UI, one module per area (``auth``, ``reports``, ``admin``).

Forms validate shapes (required, lengths, numbers); the rules of the domain are checked by
``workflow`` services, whose errors the views turn into flash messages.
"""
