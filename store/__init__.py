"""The store's data layer, shared by the actions, the recommender and the tools."""
