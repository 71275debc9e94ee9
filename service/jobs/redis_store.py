"""The redis backend's store: every job in Redis, so any web replica answers for any job and any worker resumes any job.

Keys (prefix ``gradient:``): ``job:<id>`` a hash of the job's fields (JSON values) and its lease; ``spec:<id>``,
``checkpoint:<id>``, ``result:<id>`` strings; ``history:<id>`` a sorted set scored by step (a step written twice
is replaced, never doubled); ``jobs`` the ids by creation time; ``idempotency:<key>`` the job made with that key.
Claims, progress and finishing are Lua scripts: one atomic round trip each, refused to a worker without the lease.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from service.jobs.store import FINISHED, HistoryEntry, Job, JobStore, State

P = "gradient:"

_CLAIM = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
local expires = tonumber(redis.call('HGET', KEYS[1], 'lease_expires') or '0')
if state == '"queued"' or (state == '"running"' and expires < tonumber(ARGV[2])) then
  redis.call('HSET', KEYS[1], 'state', '"running"', 'lease_owner', ARGV[1], 'lease_expires', ARGV[3])
  redis.call('HINCRBY', KEYS[1], 'attempts', 1)
  if redis.call('HGET', KEYS[1], 'started') == 'null' then redis.call('HSET', KEYS[1], 'started', ARGV[2]) end
  return 1
end
return 0
"""
_RENEW = """
if redis.call('HGET', KEYS[1], 'lease_owner') == ARGV[1] and redis.call('HGET', KEYS[1], 'state') == '"running"' then
  redis.call('HSET', KEYS[1], 'lease_expires', ARGV[2]) return 1 end
return 0
"""
# KEYS: job, history; ARGV: worker, then step, epoch, loss per entry. Returns 1 to stop (cancel asked, lease lost).
_RECORD = """
if redis.call('HGET', KEYS[1], 'lease_owner') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'state') ~= '"running"' then return 1 end
local n = (#ARGV - 1) / 3
for i = 0, n - 1 do
  local step = ARGV[2 + 3 * i]
  redis.call('ZREMRANGEBYSCORE', KEYS[2], step, step)
  redis.call('ZADD', KEYS[2], step, step .. ':' .. ARGV[3 + 3 * i] .. ':' .. ARGV[4 + 3 * i])
end
local last = 2 + 3 * (n - 1)
redis.call('HSET', KEYS[1], 'step', ARGV[last], 'epoch', ARGV[last + 1], 'loss', ARGV[last + 2])
if redis.call('HGET', KEYS[1], 'cancel_requested') == 'true' then return 1 end
return 0
"""
# KEYS: job, checkpoint, result; ARGV: worker, state, finished, compute_seconds, problem, result (or empty), has_result
_FINISH = """
if redis.call('HGET', KEYS[1], 'lease_owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'finished', ARGV[3], 'compute_seconds', ARGV[4], 'problem', ARGV[5], 'lease_owner', '')
redis.call('DEL', KEYS[2])
if ARGV[7] == '1' then redis.call('SET', KEYS[3], ARGV[6]) end
return 1
"""
_CANCEL = """
local state = redis.call('HGET', KEYS[1], 'state')
if state == '"queued"' then redis.call('HSET', KEYS[1], 'state', '"cancelled"', 'finished', ARGV[1], 'cancel_requested', 'true')
elseif state == '"running"' then redis.call('HSET', KEYS[1], 'cancel_requested', 'true') end
return 1
"""
_CHECKPOINT = """
if redis.call('HGET', KEYS[1], 'lease_owner') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2]) redis.call('HSET', KEYS[1], 'compute_seconds', ARGV[3]) return 1
"""


def _job(raw: dict[bytes, bytes]) -> Job | None:
    if not raw:
        return None
    values = {k.decode(): v for k, v in raw.items()}
    return Job(**{name: json.loads(values[name]) for name in Job.__dataclass_fields__})


class RedisStore(JobStore):
    """Jobs in the Redis at ``url``."""

    def __init__(self, url: str) -> None:
        self.r: Any = redis.Redis.from_url(url)  # redis-py's stubs type every answer as sync-or-awaitable
        self._claim = self.r.register_script(_CLAIM)
        self._renew = self.r.register_script(_RENEW)
        self._record = self.r.register_script(_RECORD)
        self._finish = self.r.register_script(_FINISH)
        self._cancel = self.r.register_script(_CANCEL)
        self._checkpoint = self.r.register_script(_CHECKPOINT)

    def create(self, job: Job, spec: dict[str, Any]) -> tuple[Job, bool]:
        key = f"{P}job:{job.id}"
        fields = {name: json.dumps(value) for name, value in job.fields().items()}
        with self.r.pipeline() as pipe:
            pipe.hset(key, mapping={**fields, "lease_owner": "", "lease_expires": "0"})
            pipe.set(f"{P}spec:{job.id}", json.dumps(spec))
            pipe.zadd(f"{P}jobs", {job.id: job.created})
            pipe.execute()
        if job.idempotency_key is not None and not self.r.set(f"{P}idempotency:{job.idempotency_key}", job.id, nx=True):
            self._remove(job.id, None)  # the key is the other job's
            existing_id = self.r.get(f"{P}idempotency:{job.idempotency_key}")
            existing = self.get(existing_id.decode()) if existing_id else None
            if existing is not None:
                return existing, False
        return job, True

    def get(self, job_id: str) -> Job | None:
        return _job(self.r.hgetall(f"{P}job:{job_id}"))

    def jobs(self, state: str | None, limit: int) -> list[Job]:
        found: list[Job] = []
        start = 0
        while len(found) < limit:
            ids = self.r.zrevrange(f"{P}jobs", start, start + 4 * limit - 1)
            if not ids:
                break
            start += len(ids)
            for job_id in ids:
                job = self.get(job_id.decode())
                if job is not None and (state is None or job.state == state):
                    found.append(job)
        return found[:limit]

    def spec(self, job_id: str) -> dict[str, Any]:
        raw = self.r.get(f"{P}spec:{job_id}")
        return dict(json.loads(raw)) if raw else {}

    def delete(self, job_id: str) -> None:
        job = self.get(job_id)
        self._remove(job_id, job.idempotency_key if job is not None else None)

    def _remove(self, job_id: str, idempotency_key: str | None) -> None:
        with self.r.pipeline() as pipe:
            for kind in ("job", "spec", "checkpoint", "result", "history"):
                pipe.delete(f"{P}{kind}:{job_id}")
            pipe.zrem(f"{P}jobs", job_id)
            if idempotency_key is not None:
                pipe.delete(f"{P}idempotency:{idempotency_key}")
            pipe.execute()

    def request_cancel(self, job_id: str, now: float) -> Job | None:
        self._cancel(keys=[f"{P}job:{job_id}"], args=[json.dumps(now)])
        return self.get(job_id)

    def claim(self, worker: str, lease: float, now: float, job_id: str | None = None) -> Job | None:
        candidates = [job_id] if job_id else [j.id for j in reversed(self.jobs("queued", 100))]
        for candidate in candidates:
            if self._claim(keys=[f"{P}job:{candidate}"], args=[worker, json.dumps(now), json.dumps(now + lease)]):
                return self.get(candidate)
        return None

    def renew(self, job_id: str, worker: str, lease: float, now: float) -> bool:
        return bool(self._renew(keys=[f"{P}job:{job_id}"], args=[worker, json.dumps(now + lease)]))

    def record(self, job_id: str, worker: str, entries: list[HistoryEntry]) -> bool:
        args: list[Any] = [worker]
        for e in entries:
            args += [e.step, e.epoch, repr(e.loss)]
        return bool(self._record(keys=[f"{P}job:{job_id}", f"{P}history:{job_id}"], args=args))

    def save_checkpoint(self, job_id: str, worker: str, data: bytes, compute_seconds: float) -> None:
        self._checkpoint(keys=[f"{P}job:{job_id}", f"{P}checkpoint:{job_id}"], args=[worker, data, json.dumps(compute_seconds)])

    def checkpoint(self, job_id: str) -> bytes | None:
        raw = self.r.get(f"{P}checkpoint:{job_id}")
        return bytes(raw) if raw else None

    def history(self, job_id: str, after: int, limit: int) -> list[HistoryEntry]:
        rows = self.r.zrangebyscore(f"{P}history:{job_id}", after + 1, "+inf", start=0, num=limit)
        out = []
        for row in rows:
            step, epoch, loss = row.decode().split(":")
            out.append(HistoryEntry(int(step), int(epoch), float(loss)))
        return out

    def finish(
        self,
        job_id: str,
        worker: str,
        state: State,
        now: float,
        compute_seconds: float,
        result: bytes | None,
        problem: dict[str, Any] | None,
    ) -> None:
        keys = [f"{P}job:{job_id}", f"{P}checkpoint:{job_id}", f"{P}result:{job_id}"]
        args = [
            worker,
            json.dumps(state),
            json.dumps(now),
            json.dumps(compute_seconds),
            json.dumps(problem),
            result or b"",
            int(result is not None),
        ]
        self._finish(keys=keys, args=list[Any](args))

    def result(self, job_id: str) -> bytes | None:
        raw = self.r.get(f"{P}result:{job_id}")
        return bytes(raw) if raw else None

    def release(self, worker: str) -> None:
        for job in self.jobs("running", 1000):
            key = f"{P}job:{job.id}"
            if self.r.hget(key, "lease_owner") == worker.encode():
                self.r.hset(key, "lease_expires", "0")

    def expire(self, before: float) -> int:
        gone = [j.id for j in self.jobs(None, 100_000) if j.state in FINISHED and j.finished is not None and j.finished < before]
        for job_id in gone:
            self.delete(job_id)
        return len(gone)

    def uses_dataset(self, dataset: str) -> bool:
        return any(j.dataset == dataset and j.state in ("queued", "running") for j in self.jobs(None, 100_000))

    def queue_depth(self) -> int:
        return len(self.jobs("queued", 100_000))

    def stale(self, now: float) -> list[str]:
        """Running jobs whose lease ran out (their worker died): the sweeper sends them again."""
        return [j.id for j in self.jobs("running", 100_000) if float(self.r.hget(f"{P}job:{j.id}", "lease_expires") or 0) < now]
