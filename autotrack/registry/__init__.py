"""Models with names: a registry of model versions and aliases in the local store, loading a
registered model back, and mirroring the registry to a backend's (MLflow's Model Registry)."""
