"""Custom actions of the shop assistant, served by rasa-sdk (``python -m actions``).

Every reply of the bot comes from one of these actions; see ``README.md`` of
the repository for the dialogue contract. Importing the package does nothing:
settings, the database engine and the recommendation source are built on
first use by :mod:`actions.context`.
"""
