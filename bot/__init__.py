"""The Rasa project's own Python: Rasa-side extensions, the launcher and the terminal chat."""
