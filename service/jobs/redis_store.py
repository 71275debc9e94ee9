"""The redis backend's store: datasets' records and jobs in Redis, so any web replica answers for any job and any worker resumes any job.

Keys (prefix ``gradient:``); ``<T>`` is ``t:<tenant>:``:

- ``job:<id>`` a hash of the job's fields (JSON values) and its lease (``lease_owner``, ``lease_expires``);
  ``history:<id>`` a sorted set scored by step (a step written twice is replaced, never doubled);
- ``<T>jobs`` and ``<T>state:<state>`` the tenant's job ids scored by creation time: a list or a filter costs
  O(log n + page), and the quotas are their sizes; ``<T>idem:<key>`` the job made with that Idempotency-Key;
- ``<T>datasets`` a hash of the tenant's dataset records, ``<T>dataset_bytes`` their stored bytes;
- ``queued`` (by creation), ``leases`` (by lease expiry) and ``finished`` (by end time) across tenants, for the
  workers: a claim, the sweep of dead workers' jobs and the expiry each read one range.

Every change of a job's state is one Lua script (one atomic round trip) that moves the job between these
indexes and checks the quotas; a worker's write is refused unless it holds the lease. Every call retries a
lost connection with exponential backoff and jitter (redis-py's ``Retry``), then raises
:class:`~service.errors.BackendUnavailable`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from service.errors import BackendUnavailable, no_such_dataset
from service.jobs.cursor import after_cursor, cursor_of
from service.jobs.quotas import check_dataset_quotas, check_job_quotas
from service.jobs.records import DatasetRecord, HistoryEntry, Job, Page, Quotas, State, Usage
from service.jobs.store import Removal

P = "gradient:"

#: A lost connection is tried again this many times, after 50 ms, 100 ms, 200 ms … (at most 500 ms, with jitter), within a call.
RETRIES = 4
#: Seconds a client is told to wait when Redis is away (Retry-After).
RETRY_AFTER_SECONDS = 2

# Every script gets the prefix as ARGV[1]; the keys of a tenant are made from the job's own tenant field.
_LIB = """
local P = ARGV[1]
local function T(tenant) return P .. 't:' .. tenant .. ':' end
local function field(key, name) return redis.call('HGET', key, name) end
local function decoded(key, name) return cjson.decode(redis.call('HGET', key, name)) end
local function move(key, id, from, to)
  local t = T(decoded(key, 'tenant'))
  local created = field(key, 'created')
  redis.call('ZREM', t .. 'state:' .. from, id)
  redis.call('ZADD', t .. 'state:' .. to, created, id)
end
"""
# ARGV: P, tenant, id, created, dataset, idempotency key ('' for none), max_active, max_jobs, then the hash's name/value pairs.
_CREATE = """
local tenant, id, created, dataset, idem = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local t = T(tenant)
if idem ~= '' then
  local existing = redis.call('GET', t .. 'idem:' .. idem)
  if existing then return {'exists', existing} end
end
if redis.call('HEXISTS', t .. 'datasets', dataset) == 0 then return {'no_dataset'} end
local active = redis.call('ZCARD', t .. 'state:queued') + redis.call('ZCARD', t .. 'state:running')
local kept = redis.call('ZCARD', t .. 'jobs')
if active + 1 > tonumber(ARGV[7]) or kept + 1 > tonumber(ARGV[8]) then return {'quota', active, kept} end
redis.call('HSET', P .. 'job:' .. id, unpack(ARGV, 9))
redis.call('ZADD', t .. 'jobs', created, id)
redis.call('ZADD', t .. 'state:queued', created, id)
redis.call('ZADD', P .. 'queued', created, id)
if idem ~= '' then redis.call('SET', t .. 'idem:' .. idem, id) end
return {'created'}
"""
# ARGV: P, id, worker, now, lease until
_CLAIM = """
local id = ARGV[2]
local key = P .. 'job:' .. id
local state = field(key, 'state')
if not state then return 0 end
local expires = tonumber(field(key, 'lease_expires') or '0')
if state == '"queued"' or (state == '"running"' and expires < tonumber(ARGV[4])) then
  if state == '"queued"' then move(key, id, 'queued', 'running') end
  redis.call('HSET', key, 'state', '"running"', 'lease_owner', ARGV[3], 'lease_expires', ARGV[5], 'waiting', 'null')
  redis.call('HINCRBY', key, 'attempts', 1)
  if field(key, 'started') == 'null' then redis.call('HSET', key, 'started', ARGV[4]) end
  redis.call('ZREM', P .. 'queued', id)
  redis.call('ZADD', P .. 'leases', ARGV[5], id)
  return 1
end
return 0
"""
_HOLDS = """
local id = ARGV[2]
local key = P .. 'job:' .. id
local holds = field(key, 'lease_owner') == ARGV[3] and field(key, 'state') == '"running"'
"""
# ARGV: P, id, worker, lease until
_RENEW = (
    _HOLDS
    + """
if not holds then return 0 end
redis.call('HSET', key, 'lease_expires', ARGV[4])
redis.call('ZADD', P .. 'leases', ARGV[4], id)
return 1
"""
)
# ARGV: P, id, worker, then step, epoch, loss per entry. Returns 1 to stop (cancel asked, lease lost).
_RECORD = (
    _HOLDS
    + """
if not holds then return 1 end
local history = P .. 'history:' .. id
local n = (#ARGV - 3) / 3
for i = 0, n - 1 do
  local step = ARGV[4 + 3 * i]
  redis.call('ZREMRANGEBYSCORE', history, step, step)
  redis.call('ZADD', history, step, step .. ':' .. ARGV[5 + 3 * i] .. ':' .. ARGV[6 + 3 * i])
end
local last = 4 + 3 * (n - 1)
redis.call('HSET', key, 'waiting', 'null')
if tonumber(ARGV[last]) >= tonumber(field(key, 'step')) then  -- progress never goes back (a resumed job redoes steps)
  redis.call('HSET', key, 'step', ARGV[last], 'epoch', ARGV[last + 1], 'loss', ARGV[last + 2])
end
if field(key, 'cancel_requested') == 'true' then return 1 end
return 0
"""
)
# ARGV: P, id, worker, waiting (JSON)
_WAITING = (
    _HOLDS
    + """
if holds then redis.call('HSET', key, 'waiting', ARGV[4]) end
return 1
"""
)
# ARGV: P, id, worker, state, finished, compute_seconds, problem (JSON)
_FINISH = (
    _HOLDS
    + """
if not holds then return 0 end
move(key, id, 'running', ARGV[4])
redis.call('HSET', key, 'state', cjson.encode(ARGV[4]), 'finished', ARGV[5], 'compute_seconds', ARGV[6], 'problem', ARGV[7],
  'lease_owner', '', 'waiting', 'null')
redis.call('ZREM', P .. 'leases', id)
redis.call('ZADD', P .. 'finished', ARGV[5], id)
return 1
"""
)
# ARGV: P, tenant, id, now
_CANCEL = """
local id = ARGV[3]
local key = P .. 'job:' .. id
if redis.call('EXISTS', key) == 0 or decoded(key, 'tenant') ~= ARGV[2] then return 0 end
local state = field(key, 'state')
if state == '"queued"' then
  move(key, id, 'queued', 'cancelled')
  redis.call('HSET', key, 'state', '"cancelled"', 'finished', ARGV[4], 'cancel_requested', 'true')
  redis.call('ZREM', P .. 'queued', id)
  redis.call('ZADD', P .. 'finished', ARGV[4], id)
elseif state == '"running"' then redis.call('HSET', key, 'cancel_requested', 'true') end
return 1
"""
# ARGV: P, id, tenant ('' for any)
_DELETE = """
local id = ARGV[2]
local key = P .. 'job:' .. id
if redis.call('EXISTS', key) == 0 then return 0 end
local tenant = decoded(key, 'tenant')
if ARGV[3] ~= '' and tenant ~= ARGV[3] then return 0 end
local t = T(tenant)
redis.call('ZREM', t .. 'state:' .. decoded(key, 'state'), id)
redis.call('ZREM', t .. 'jobs', id)
local idem = decoded(key, 'idempotency_key')
if idem ~= cjson.null and redis.call('GET', t .. 'idem:' .. idem) == id then redis.call('DEL', t .. 'idem:' .. idem) end
for _, index in ipairs({'queued', 'leases', 'finished'}) do redis.call('ZREM', P .. index, id) end
redis.call('DEL', key, P .. 'history:' .. id)
return 1
"""
# ARGV: P, worker
_RELEASE = """
for _, id in ipairs(redis.call('ZRANGE', P .. 'leases', 0, -1)) do
  local key = P .. 'job:' .. id
  if field(key, 'lease_owner') == ARGV[2] then
    redis.call('HSET', key, 'lease_expires', '0')
    redis.call('ZADD', P .. 'leases', 0, id)
  end
end
return 1
"""
# ARGV: P, tenant, id, record (JSON), bytes, max_datasets, max_dataset_bytes
_ADD_DATASET = """
local t = T(ARGV[2])
local existing = redis.call('HGET', t .. 'datasets', ARGV[3])
if existing then return {'exists', existing} end
local count = redis.call('HLEN', t .. 'datasets')
local bytes = tonumber(redis.call('GET', t .. 'dataset_bytes') or '0')
if count + 1 > tonumber(ARGV[6]) or bytes + tonumber(ARGV[5]) > tonumber(ARGV[7]) then return {'quota', count, bytes} end
redis.call('HSET', t .. 'datasets', ARGV[3], ARGV[4])
redis.call('INCRBY', t .. 'dataset_bytes', ARGV[5])
return {'created'}
"""
# ARGV: P, tenant, id
_REMOVE_DATASET = """
local t = T(ARGV[2])
local record = redis.call('HGET', t .. 'datasets', ARGV[3])
if not record then return 'missing' end
local used = cjson.encode(ARGV[3])
for _, state in ipairs({'queued', 'running'}) do
  for _, id in ipairs(redis.call('ZRANGE', t .. 'state:' .. state, 0, -1)) do
    if field(P .. 'job:' .. id, 'dataset') == used then return 'in_use' end
  end
end
redis.call('HDEL', t .. 'datasets', ARGV[3])
redis.call('DECRBY', t .. 'dataset_bytes', cjson.decode(record)['bytes'])
return 'removed'
"""

F = TypeVar("F", bound=Callable[..., Any])


def _available(method: F) -> F:
    """``method``, with a connection that stays lost through redis-py's retries raised as BackendUnavailable (503)."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as exc:  # BusyLoadingError (a restart reading its AOF) is one too
            raise BackendUnavailable(
                f"the job backend (Redis) cannot be reached now ({type(exc).__name__}); retry in a few seconds",
                backend="redis",
                retry_after=RETRY_AFTER_SECONDS,
            ) from exc

    return call  # type: ignore[return-value]


def _job(raw: dict[bytes, bytes]) -> Job | None:
    if not raw:
        return None
    values = {k.decode(): v for k, v in raw.items()}
    return Job(**{name: json.loads(values[name]) for name in Job.__dataclass_fields__})


def client(url: str) -> Any:
    """A Redis client that retries a lost connection (refused, reset, timed out) with exponential backoff and jitter."""
    return redis.Redis.from_url(
        url,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), RETRIES),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        socket_connect_timeout=1,
        socket_timeout=10,
    )


class RedisStore:
    """Datasets' records and jobs in the Redis at ``url`` (see the module docstring)."""

    name = "redis"

    def __init__(self, url: str) -> None:
        self.r: Any = client(url)  # redis-py's stubs type every answer as sync-or-awaitable
        scripts = {
            "create": _CREATE,
            "claim": _CLAIM,
            "renew": _RENEW,
            "record": _RECORD,
            "waiting": _WAITING,
            "finish": _FINISH,
            "cancel": _CANCEL,
            "delete": _DELETE,
            "release": _RELEASE,
            "add_dataset": _ADD_DATASET,
            "remove_dataset": _REMOVE_DATASET,
        }
        self._scripts = {name: self.r.register_script(_LIB + body) for name, body in scripts.items()}

    def _run(self, script: str, *args: Any) -> Any:
        return self._scripts[script](keys=[], args=[P, *args])

    @_available
    def ping(self) -> None:
        self.r.ping()

    @_available
    def usage(self, tenant: str) -> Usage:
        t = f"{P}t:{tenant}:"
        with self.r.pipeline(transaction=False) as pipe:
            pipe.hlen(f"{t}datasets")
            pipe.get(f"{t}dataset_bytes")
            pipe.zcard(f"{t}state:queued")
            pipe.zcard(f"{t}state:running")
            pipe.zcard(f"{t}jobs")
            datasets, dataset_bytes, queued, running, jobs = pipe.execute()
        return Usage(int(datasets), int(dataset_bytes or 0), int(queued) + int(running), int(jobs))

    # Datasets ---------------------------------------------------------------------------------------------------
    @_available
    def add_dataset(self, record: DatasetRecord, quotas: Quotas) -> tuple[DatasetRecord, bool]:
        answer = self._run(
            "add_dataset",
            record.tenant,
            record.id,
            json.dumps(record.fields()),
            record.bytes,
            quotas.max_datasets,
            quotas.max_dataset_bytes,
        )
        kind = answer[0].decode()
        if kind == "exists":
            return DatasetRecord(**json.loads(answer[1])), False
        if kind == "quota":
            check_dataset_quotas(Usage(int(answer[1]), int(answer[2]), 0, 0), quotas, record.bytes)
        return record, True

    @_available
    def dataset(self, tenant: str, dataset_id: str) -> DatasetRecord | None:
        raw = self.r.hget(f"{P}t:{tenant}:datasets", dataset_id)
        return None if raw is None else DatasetRecord(**json.loads(raw))

    @_available
    def remove_dataset(self, tenant: str, dataset_id: str) -> Removal:
        answer: Removal = self._run("remove_dataset", tenant, dataset_id).decode()
        return answer

    # Jobs, for clients ------------------------------------------------------------------------------------------
    @_available
    def create(self, job: Job, quotas: Quotas) -> tuple[Job, bool]:
        fields = {name: json.dumps(value) for name, value in job.fields().items()}
        pairs = [item for name, value in {**fields, "lease_owner": "", "lease_expires": "0"}.items() for item in (name, value)]
        answer = self._run(
            "create",
            job.tenant,
            job.id,
            repr(job.created),
            job.dataset,
            job.idempotency_key or "",
            quotas.max_active_jobs,
            quotas.max_jobs,
            *pairs,
        )
        kind = answer[0].decode()
        if kind == "exists":
            existing = self.get(answer[1].decode())
            if existing is not None:
                return existing, False
        if kind == "no_dataset":
            raise no_such_dataset()
        if kind == "quota":
            check_job_quotas(Usage(0, 0, int(answer[1]), int(answer[2])), quotas)
        return job, True

    @_available
    def get(self, job_id: str, tenant: str | None = None) -> Job | None:
        job = _job(self.r.hgetall(f"{P}job:{job_id}"))
        return job if job is not None and (tenant is None or job.tenant == tenant) else None

    @_available
    def page(self, tenant: str, state: State | None, limit: int, cursor: str | None) -> Page:
        key = f"{P}t:{tenant}:" + (f"state:{state}" if state else "jobs")
        top: str | float = "+inf"
        skip: tuple[float, str] | None = None
        if cursor is not None:
            top, _ = skip = after_cursor(cursor)
        ids: list[str] = []
        offset = 0
        while len(ids) <= limit:  # one more than the page: whether there is a next one
            want = limit + 1 - len(ids) + 8
            found = self.r.zrevrangebyscore(key, top, "-inf", start=offset, num=want, withscores=True)
            for member, score in found:
                job_id = member.decode()
                if skip is not None and score == skip[0] and job_id >= skip[1]:  # ties sort by id, descending
                    continue
                ids.append(job_id)
            if len(found) < want:
                break
            offset += len(found)
        with self.r.pipeline(transaction=False) as pipe:
            for job_id in ids[:limit]:
                pipe.hgetall(f"{P}job:{job_id}")
            jobs = [j for j in map(_job, pipe.execute()) if j is not None]
        more = len(ids) > limit
        return Page(jobs, cursor_of(jobs[-1].created, jobs[-1].id) if more and jobs else None)

    @_available
    def delete(self, job_id: str, tenant: str | None = None) -> None:
        self._run("delete", job_id, tenant or "")

    @_available
    def request_cancel(self, tenant: str, job_id: str, now: float) -> Job | None:
        self._run("cancel", tenant, job_id, repr(now))
        return self.get(job_id, tenant)

    @_available
    def history(self, job_id: str, after: int, limit: int) -> list[HistoryEntry]:
        rows = self.r.zrangebyscore(f"{P}history:{job_id}", after + 1, "+inf", start=0, num=limit)
        out = []
        for row in rows:
            step, epoch, loss = row.decode().split(":")
            out.append(HistoryEntry(int(step), int(epoch), float(loss)))
        return out

    # Jobs, for workers ------------------------------------------------------------------------------------------
    @_available
    def claim(self, worker: str, lease: float, now: float, job_id: str | None = None) -> Job | None:
        candidates = [job_id] if job_id else self.stale(now) + [m.decode() for m in self.r.zrange(f"{P}queued", 0, 99)]
        for candidate in candidates:
            if self._run("claim", candidate, worker, repr(now), repr(now + lease)):
                return self.get(candidate)
        return None

    @_available
    def renew(self, job_id: str, worker: str, lease: float, now: float) -> bool:
        return bool(self._run("renew", job_id, worker, repr(now + lease)))

    @_available
    def record(self, job_id: str, worker: str, entries: list[HistoryEntry]) -> bool:
        args: list[Any] = [job_id, worker]
        for e in entries:
            args += [e.step, e.epoch, repr(e.loss)]
        return bool(self._run("record", *args))

    @_available
    def set_waiting(self, job_id: str, worker: str, waiting: str | None) -> None:
        self._run("waiting", job_id, worker, json.dumps(waiting))

    @_available
    def finish(self, job_id: str, worker: str, state: State, now: float, compute_seconds: float, problem: dict[str, Any] | None) -> bool:
        return bool(self._run("finish", job_id, worker, state, repr(now), repr(compute_seconds), json.dumps(problem)))

    @_available
    def release(self, worker: str) -> None:
        self._run("release", worker)

    @_available
    def stale(self, now: float) -> list[str]:
        return [m.decode() for m in self.r.zrangebyscore(f"{P}leases", "-inf", f"({now!r}")]

    @_available
    def expired(self, before: float, limit: int) -> list[Job]:
        ids = self.r.zrangebyscore(f"{P}finished", "-inf", f"({before!r}", start=0, num=limit)
        jobs = [self.get(i.decode()) for i in ids]
        return [j for j in jobs if j is not None]

    @_available
    def queue_depth(self) -> int:
        return int(self.r.zcard(f"{P}queued"))
