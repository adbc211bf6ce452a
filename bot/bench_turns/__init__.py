"""Whole-turn benchmark through Rasa's REST channel: recommendation turns against plain custom-action turns.

Starts the real stack (``bot.launch.Stack``) on free ports over a fresh copy
of the store, holds N concurrent conversations as signed-in demo customers
in English and Chinese, times every turn by type, then checks from the
tracker store that no message was lost and from the recommendation events
how many recommendation turns the fallback answered.

    python -m bot.bench_turns [--model-dir DIR] [--conversations 20] [--turns-per-conversation 10]
                              [--database-url URL] [--out results/bench/turns]
"""
