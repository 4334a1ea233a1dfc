"""The cluster of ``bench/load.py --scale-out``: two ``dualsign serve`` and two ``dualsign worker``
processes on one machine, sharing what several machines would share.

- PostgreSQL: a new database ``bench_<random>`` on the server at ``--pg-admin`` (dropped after);
- Redis: an empty database number of the server at 127.0.0.1:6379 (not 0 or 15, which the tests use),
  for the request limits of both API processes and the RQ queue of the workers
  (``DUALSIGN_JOB_QUEUE=rq``); the keys written there (``rq:*``, ``dualsign:*``) are deleted after;
- S3: a moto server (``moto[server]``, as the tests use) on a free port of 127.0.0.1, with a bucket
  created with Object Lock; it keeps everything in memory and is gone when it stops;
- one data directory (a temporary one) for the PKI, the blob encryption keys and the secret, as a
  shared volume would hold them.

The API processes run with ``DUALSIGN_WORKER=off``; the database is migrated and the tenant created
once, before any of them starts. Every process runs the code of this tree (``python -m
dualsign.cli.main`` with this tree's ``src`` first on ``PYTHONPATH``), in its own process group, so
that stopping it also stops its face worker processes. Everything is stopped, dropped and deleted on
leaving the ``cluster`` context, on an error or Ctrl-C too (and on SIGTERM, which is turned into an
exit while the cluster runs).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
REDIS_HOST = "redis://127.0.0.1:6379"
REDIS_KEYS = ("rq:*", "dualsign:*")  # what RQ and the service write in their Redis database
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and of its descendants still running, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        child = int(path.parent.name)
        parents[child], cpu[child] = int(fields[1]), (int(fields[11]) + int(fields[12])) / tick
    total, family = 0.0, {pid}
    grew = True
    while grew:  # a descendant is the child of one already counted
        grew = False
        for child, parent in parents.items():
            if parent in family and child not in family:
                family.add(child)
                grew = True
    for member in family:
        total += cpu.get(member, 0.0)
    return total


@dataclass
class Cluster:
    urls: list[str]  # the API processes
    headers: dict[str, str]  # the integrator's
    serve: list[subprocess.Popen[bytes]]
    work: list[subprocess.Popen[bytes]]
    s3: subprocess.Popen[bytes]
    endpoint: str
    bucket: str
    described: list[str] = field(default_factory=list)  # what was started, for the printout

    def cpu(self) -> list[float]:
        """CPU seconds so far of each API process, each worker (their children included), then the S3
        server."""
        return [tree_cpu(p.pid) for p in (*self.serve, *self.work, self.s3)]

    def settle(self, limit_s: float = 180) -> float:
        """Wait until no job is queued or running (the reports rendered after the seals, say), as the
        ``dualsign_jobs`` metric counts them; returns how long it took."""
        started = time.perf_counter()
        while time.perf_counter() - started < limit_s:
            text = httpx.get(f"{self.urls[0]}/metrics", timeout=30).text
            busy = sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("dualsign_jobs{")
                and ('state="queued"' in line or 'state="running"' in line)
            )
            if not busy:
                break
            time.sleep(2)
        return time.perf_counter() - started

    def stored(self) -> tuple[int, int]:
        """Object versions in the bucket and their bytes (what the store holds and bills)."""
        import boto3

        client = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1", **_keys())
        count = size = 0
        for page in client.get_paginator("list_object_versions").paginate(Bucket=self.bucket):
            for version in page.get("Versions", []):
                count += 1
                size += int(version["Size"])
        return count, size


def _keys() -> dict[str, str]:
    return {
        "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


def _start(
    argv: list[str], env: dict[str, str], log: str | None, name: str, stack: contextlib.ExitStack
) -> subprocess.Popen[bytes]:
    stderr: Any = subprocess.DEVNULL
    if log:
        stderr = stack.enter_context(Path(f"{log}.{name}").open("wb"))  # noqa: SIM115 (the stack closes it)
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True
    )
    stack.callback(_stop, process)
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process, then (after 20 s, or at once if it is gone) SIGKILL to what is left of
    its process group: its face worker processes, whatever happened to it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _wait_up(url: str, process: subprocess.Popen[bytes], what: str, limit_s: float = 120) -> None:
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode} before it answered")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not answer at {url} within {limit_s:.0f} s")


def _database(admin: str, stack: contextlib.ExitStack) -> str:
    """A new PostgreSQL database, dropped when the stack closes; returns its SQLAlchemy URL."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    stack.callback(drop)
    info = conninfo_to_dict(admin)
    user = f"{info['user']}@" if info.get("user") else ""
    return f"postgresql+psycopg://{user}{info.get('host', '127.0.0.1')}:{info.get('port', 5432)}/{name}"


def _redis(stack: contextlib.ExitStack) -> str:
    """An empty Redis database (1–14; the tests use 0 and 15), emptied of what the run wrote after."""
    from redis import Redis

    empty = []
    for number in range(1, 15):
        r = Redis.from_url(f"{REDIS_HOST}/{number}")
        if r.dbsize() == 0:
            empty.append(number)
        r.close()
    if not empty:
        raise SystemExit(f"no empty database on the Redis at {REDIS_HOST} (1–14 all hold keys)")
    number = random.choice(empty)
    url = f"{REDIS_HOST}/{number}"

    def clean() -> None:
        r = Redis.from_url(url)
        for pattern in REDIS_KEYS:
            keys = list(r.scan_iter(match=pattern, count=1000))
            for k in range(0, len(keys), 500):
                r.delete(*keys[k : k + 500])
        r.close()

    stack.callback(clean)
    return url


def _bucket(endpoint: str) -> str:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **_keys())
    name = f"bench-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


@contextlib.contextmanager
def cluster(
    settings: dict[str, str], pg_admin: str, log: str | None = None, processes: int = 2
) -> Iterator[Cluster]:
    """``processes`` API processes and as many workers on PostgreSQL, Redis (RQ) and S3 (moto)."""
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill: clean up as on Ctrl-C
    try:
        with contextlib.ExitStack() as stack:
            yield _build(stack, settings, pg_admin, log, processes)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _build(
    stack: contextlib.ExitStack, settings: dict[str, str], pg_admin: str, log: str | None, processes: int
) -> Cluster:
    data = stack.enter_context(tempfile.TemporaryDirectory(prefix="dualsign-bench-"))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DUALSIGN_", "AWS_"))}
    here = [str(ROOT / "src"), str(ROOT / "packages" / "dualsign-verify" / "src")]
    pythonpath = os.pathsep.join(here + [p for p in [os.environ.get("PYTHONPATH")] if p])
    base.update(CREDENTIALS, PYTHONPATH=pythonpath)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    s3 = _start(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], base, log, "s3", stack
    )
    _wait_up(f"{endpoint}/", s3, "the moto S3 server")
    bucket = _bucket(endpoint)
    database, redis_url = _database(pg_admin, stack), _redis(stack)
    ports = [free_port() for _ in range(processes)]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    env = {
        **base,
        "DUALSIGN_DATA_DIR": data,
        "DATABASE_URL": database,
        "DUALSIGN_SECRET_KEY": "bench-" + uuid.uuid4().hex + uuid.uuid4().hex,
        "DUALSIGN_WORKER": "off",
        "DUALSIGN_JOB_QUEUE": "rq",
        "DUALSIGN_REDIS_URL": redis_url,
        "DUALSIGN_BLOBS": "s3",
        "DUALSIGN_S3_BUCKET": bucket,
        "DUALSIGN_S3_ENDPOINT_URL": endpoint,
        "DUALSIGN_S3_REGION": "us-east-1",
        "DUALSIGN_PUBLIC_URL": urls[0],  # one public address (a balancer's) for every process
        "DUALSIGN_LOG_FORMAT": "text",
        "DUALSIGN_RECORDING_GRACE_SECONDS": "10",
        **settings,
    }
    cli = [sys.executable, "-m", "dualsign.cli.main"]
    subprocess.run([*cli, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    made = subprocess.run(
        [*cli, "tenant", "create", "Load Bank"], env=env, capture_output=True, text=True, check=True
    )
    headers = {"Authorization": f"Bearer {json.loads(made.stdout)['api_key']}"}
    serve = [
        _start([*cli, "serve"], {**env, "DUALSIGN_PORT": str(p)}, log, f"serve{n}", stack)
        for n, p in enumerate(ports)
    ]
    work = [_start([*cli, "worker", "--poll", "1"], env, log, f"worker{n}", stack) for n in range(processes)]
    for n, (url, process) in enumerate(zip(urls, serve, strict=True)):
        _wait_up(f"{url}/healthz", process, f"dualsign serve #{n}")
    for n, process in enumerate(work):
        if process.poll() is not None:
            raise SystemExit(f"dualsign worker #{n} exited with {process.returncode}")
    listening = ", ".join(u.rsplit(":", 1)[1] for u in urls)
    described = [
        f"cluster             {processes} × dualsign serve (ports {listening}), "
        f"{processes} × dualsign worker (RQ on {redis_url})",
        f"                    PostgreSQL {database.rsplit('/', 1)[1]}; S3: moto {endpoint}, bucket {bucket} "
        "(Object Lock)",
    ]
    return Cluster(urls, headers, serve, work, s3, endpoint, bucket, described)


def figures(
    run: list[float], total: list[float], wall: float, concurrent: int, stored: tuple[int, int], chunks: int
) -> tuple[list[str], list[str]]:
    """The printout's CPU lines (``run``: CPU seconds of each API process, each worker and the S3 server
    during the live run of ``wall`` seconds, as ``Cluster.cpu`` lists them; ``total``: the same from
    the start of the run until the last job was done) and its storage line (the bucket's object versions
    and bytes over the recorded minutes, ``chunks`` of 2 s)."""
    n, nan = (len(run) - 1) // 2, float("nan")
    api, work, s3 = sum(run[:n]) / wall, sum(run[n : 2 * n]) / wall, run[-1] / wall
    both = api + work

    def each(cpu: list[float]) -> str:
        return " + ".join(f"{x:.1f}" for x in cpu) + " CPU-s"

    cpu = [
        f"server CPU          {api:.2f} cores of {os.cpu_count()} ({n} API processes with their face worker "
        f"processes: {each(run[:n])})",
        f"worker CPU          {work:.2f} cores ({n} workers with their children: {each(run[n : 2 * n])}); "
        f"until the last job {each(total[n : 2 * n])} (API processes {each(total[:n])})",
        f"S3 server (moto)    {s3:.2f} cores (standing in for the object store; counted in neither)",
        f"sessions per core   {concurrent} concurrent / {both:.2f} cores (API + workers) = "
        f"{concurrent / both if both else nan:.1f} (per API core {concurrent / api if api else nan:.1f})",
    ]
    minutes = chunks * 2 / 60
    objects, size = stored
    per = size / minutes / 1e6 if minutes else nan
    storage = [
        f"storage             {objects} object versions, {size / 1e6:.1f} MB in the bucket: {per:.2f} MB "
        f"per recorded session-minute ({minutes:.1f} minutes recorded, {chunks} chunks of 2 s)",
    ]
    return cpu, storage
