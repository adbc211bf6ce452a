"""The model server: HTTP layer, micro-batching and the model behind them."""
