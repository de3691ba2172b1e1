"""Framework-free capture: datasets and fingerprints, run context (system, git, packages), redaction."""
