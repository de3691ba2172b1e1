"""A run's life after training: delete to a trash and restore, collect garbage, tag, note, rename,
and how much of the store each run and experiment takes."""
