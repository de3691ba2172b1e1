"""Production: predictions traced to their training run, data profiles, drift, realised performance.

A room of its own: it talks to the core through hooks, the writer's records and the store.
`profile` builds mergeable sketches (Apache DataSketches) of tables; `drift` compares two of them;
`lineage` recognises a model by the fingerprint of what it learned; `recorder` watches the
predict calls of models this process did not fit and writes one record per model and window;
`queries` reads it all back for the CLI, the dashboard and the report. See docs/production.md.
"""
