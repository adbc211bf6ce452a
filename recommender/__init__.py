"""The GPT-style recommender: data, baselines, training, evaluation and serving."""
