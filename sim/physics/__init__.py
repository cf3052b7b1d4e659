"""Pure physical models: small functions with units, equations and sources; no SimPy, no state."""
