"""Domain rules as pure functions: routing, lead time, calendar, fees, signatures, identifiers."""
