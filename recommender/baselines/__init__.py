"""Baselines the GPT recommender is measured against: popularity, co-occurrence, SASRec."""
