"""Training jobs: datasets stored once, jobs queued, run by worker processes, checkpointed and resumed. No HTTP here.

- :mod:`~service.jobs.datasets`: x and t under ``data_dir``, the id their content hash;
- :mod:`~service.jobs.store`: what a job store keeps; :mod:`~service.jobs.sqlite_store` (embedded) and
  :mod:`~service.jobs.redis_store` (redis) keep it;
- :mod:`~service.jobs.runner`: one job in a worker, on the engine's own training loop, with checkpoints and a lease;
- :mod:`~service.jobs.backend`: the backend in use (``jobs_backend``), its store and queue, and the worker loop;
- :mod:`~service.jobs.supervisor`: the worker processes ``gradient-service`` starts itself (embedded backend).
"""
