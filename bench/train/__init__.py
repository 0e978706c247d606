"""`bench train`: retrain a derainer on paired (or synthesised, leakage-checked) data with the loss
of its released code; checkpoints land in a local registry that `bench run` resolves
(``<cache>/trained/<model>/<name>/``). See loop.py, data.py, recipes.py, registry.py."""
