"""sim: a discrete-event simulator of the energy and carbon of AI data centers."""

__version__ = "0.1.0"
