"""Python that Rasa itself loads (runs in the Python 3.10 Rasa environment)."""
