"""The PDF layer: layout numbers (``layout``), fonts (``fonts``), rendering (``render``),
signing (``signing``) and verification (``verify``) — pure functions, no Flask or
database — plus the RQ jobs and CLI commands that drive them (``jobs``, ``cli``)."""
