"""``derm-assist``: what coaches, learners and CI need from a terminal.

Exit codes: 0 ok, 1 something failed, 2 bad usage or bad input. Errors are one line on stderr;
``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import urllib.error
from pathlib import Path

from .. import __version__, models
from ..core.config import (
    APP_PORT,
    DEFAULT_INSTANCE_TYPE,
    DEFAULT_SERVERLESS_CONCURRENCY,
    DEFAULT_TOP_K,
    MOCK_COLD_START_SECONDS,
    MOCK_DEPLOY_SECONDS,
    MOCK_INSTANCE_QUOTA,
    MOCK_PORT,
    MOCK_REALISTIC_DEPLOY_SECONDS,
    MOCK_REALISTIC_SERVERLESS_DEPLOY_SECONDS,
    MOCK_TIME_SCALE_ENV,
    MOCK_TIMINGS_ENV,
    REPO_ROOT,
    SKIN_PROXIES_SEED,
    mock_realistic_timings,
    mock_time_scale,
)
from ..core.errors import BadInputError, DermAssistError, redact
from ..triage import DEFAULT_THRESHOLD

PROG = "derm-assist"
REHEARSAL_OWNER = "rehearsal"  # owner of the endpoints made in an offline rehearsal (`derm-assist mock`)


# --- commands -----------------------------------------------------------------------------------------


def cmd_mock(args) -> int:
    from ..mock import MockServer, MockSettings

    scale = args.time_scale if args.time_scale is not None else mock_time_scale()
    if scale <= 0:
        raise BadInputError(f"--time-scale must be positive, not {scale:g} (0.01 runs 6 minutes in 3.6 s).")
    common = {"cold_start_seconds": args.cold_start_seconds, "instance_quota": args.instance_quota, "time_scale": scale}
    if args.realistic or mock_realistic_timings():
        settings = MockSettings.realistic(**common)
    else:
        settings = MockSettings(deploy_seconds=args.deploy_seconds, **common)
    try:
        server = MockServer(port=args.port, settings=settings, log_requests=args.verbose)
    except OSError as exc:
        raise DermAssistError(f"Cannot listen on 127.0.0.1:{args.port} ({exc.strerror}). Pick another port with --port.") from None
    print(f"# Local mock of SageMaker on {server.url} (Ctrl+C to stop). Point boto3 at it with:")
    for key, value in server.environment().items():
        print(f"export {key}={value}")
    # The mock's identity (moto) is the same for everybody, so the rehearsal names its own owner.
    print(f"export DERM_ASSIST_OWNER={shlex.quote(os.environ.get('DERM_ASSIST_OWNER') or REHEARSAL_OWNER)}")
    minutes = settings.provisioning_seconds(False) / 60
    print(f"# New endpoints stay Creating for {settings.deploy_seconds / 60:.1f} min on the mock's clock"
          + (f" ({minutes:.2f} min of wall time at time scale {scale:g})" if scale != 1 else "") + ".")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nMock stopped.")
    return 0


def cmd_deploy(args) -> int:
    from .. import endpoint, state

    serverless = None
    if args.serverless:
        serverless = (endpoint.ServerlessSpec.for_model(args.model, args.max_concurrency) if args.memory is None
                      else endpoint.ServerlessSpec(args.memory, args.max_concurrency))
    info = endpoint.deploy(args.model, name=args.name, instance_type=args.instance_type, serverless=serverless, role_arn=args.role, progress=not args.quiet)
    state.remember_endpoint(info.name, args.model, serverless=bool(serverless), work_dir=args.work_dir)
    print(f"{info.name} is {info.status} ({info.kind}); remembered for notebooks and `derm-assist classify`.")
    return 0


def cmd_classify(args) -> int:
    from .. import classify

    show_progress = not args.json and sys.stderr.isatty()
    batch = classify.classify_many(args.paths, args.endpoint, args.top_k, work_dir=args.work_dir, progress=show_progress)
    if args.json:
        out = [{"image": r.image, "predictions": [vars(p) for p in r.predictions], "stand_in": r.stand_in} for r in batch.results]
        out += [{"image": name, "error": reason} for name, reason in batch.failures]
        print(json.dumps(out, indent=2))
    else:
        for result in batch.results:
            top = ", ".join(f"{p.label} {p.score:.2f}" for p in result.predictions)
            print(f"{Path(result.image).name}: {top}")
        if len(batch.failures) == 1 and not batch.results:
            print(f"{PROG}: error: {batch.failures[0][1]}", file=sys.stderr)  # one file, one line
        elif batch.failures:
            print(batch.report_failures(), file=sys.stderr)
    if batch.failures:
        return 2 if batch.only_bad_input else 1
    return 0


def cmd_endpoints(args) -> int:
    from .. import cleanup

    print(cleanup.endpoint_report(owner=args.owner).text())
    return 0


def cmd_cleanup(args) -> int:
    from .. import cleanup

    result = cleanup.cleanup(args.name, everything=args.all, older_than=args.older_than, dry_run=args.dry_run, work_dir=args.work_dir)
    print(result.text())
    return 0 if result.complete else 1


def cmd_run(args) -> int:
    from . import runner

    selected = [Path(p).resolve() for p in args.notebooks] if args.notebooks else None
    for path in selected or []:
        if not path.exists():
            raise BadInputError(f"Notebook not found: {path}.")
    cards = tuple(args.cards.split(",")) if args.cards else runner.CURVEBALL_CARDS
    faults = _fault_spec(args.faults.replace(",", " ").split()) if args.faults else None
    if faults and args.no_mock:
        raise BadInputError("--faults needs the local mock; drop --no-mock.")
    runs = runner.run_all(Path(args.out), selected, with_mock=not args.no_mock, cards=cards, faults=faults)
    failed = [r for r in runs if not r.ok]
    for run in failed:
        print(f"{run.output.name}: {run.error}", file=sys.stderr)
    return 1 if failed else 0


def cmd_record(args) -> int:
    from ..mock import recordings

    path = recordings.record_all(Path(args.out) if args.out else None)
    problems = recordings.check_quality_bar(recordings.load_recordings(path))
    print(recordings.summarise(recordings.load_recordings(path)))
    for problem in problems:
        print(f"quality bar: {problem}", file=sys.stderr)
    return 1 if problems else 0


def cmd_proxies(args) -> int:
    from ..maintainer import proxies

    written = proxies.generate(Path(args.out), seed=args.seed)
    print(f"Wrote {len(written)} synthetic skin proxies to {args.out}.")
    return 0


def cmd_portfolio(args) -> int:
    from .. import worksheets

    out = worksheets.build_portfolio(work_dir=args.work_dir, out_path=Path(args.out))
    print(f"Portfolio written to {out}")
    return 0


def cmd_triage(args) -> int:
    from .. import assessment, triage

    result = assessment.assess(args.image, args.endpoint, args.threshold, note=args.note or "", work_dir=args.work_dir)
    print(result.plain_text())
    if result.is_mock:
        print(f"(Answered by the local mock's stand-in ({result.classification.stand_in}), not the real {triage.MODEL.name}.)")
    print(f"Logged for review in {triage.ReviewLog(args.work_dir).path}.")
    return 0


def cmd_app(args) -> int:
    from .. import webapp

    webapp.serve(args.endpoint, args.port, args.threshold, root_path=args.root_path, work_dir=args.work_dir)
    return 0


def cmd_faults(args) -> int:
    from ..core import aws
    from ..mock import control

    url = aws.endpoint_url()
    if not aws.is_mock():
        raise BadInputError("Faults can only be injected into the local mock: export the variables `derm-assist mock` prints.")
    try:
        if args.clear:
            result = control(url, "faults", method="DELETE")
        elif args.set:
            spec = _fault_spec(args.set)
            result = control(url, "faults", {"endpoints": {args.endpoint: spec}} if args.endpoint else {"global": spec})
        else:
            result = control(url, "faults")
    except urllib.error.HTTPError as exc:
        try:
            reason = json.loads(exc.read()).get("error", exc.reason)
        except ValueError:
            reason = exc.reason
        raise BadInputError(f"The mock refused the faults: {reason}.") from None
    except OSError as exc:
        raise DermAssistError(f"Cannot reach the local mock at {url} ({getattr(exc, 'reason', exc)}). Is `derm-assist mock` running?") from None
    print(json.dumps(result, indent=2))
    return 0


def _fault_spec(items: list[str]) -> dict:
    """``["throttle_rate=0.2", "expired_credentials=true"]`` -> ``{"throttle_rate": 0.2, "expired_credentials": True}``."""
    spec: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BadInputError(f"{item!r}: use KEY=VALUE, e.g. throttle_rate=0.2.")
        spec[key.strip()] = value.lower() in ("1", "true", "yes") if value.lower() in ("true", "false", "yes", "no") else _number(value)
    return spec


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


# --- parser -------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Derm-Assist workshop pack: deploy, classify, clean up, rehearse offline.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name, func, help_text):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show full tracebacks")
        p.set_defaults(func=func)
        return p

    def work(p):
        p.add_argument("--work-dir", help="learner work folder (default $DERM_ASSIST_WORK_DIR or ./work)")

    p = add("mock", cmd_mock, "Serve the local mock of SageMaker on 127.0.0.1 in the foreground.")
    p.add_argument("--port", type=int, default=MOCK_PORT, help=f"port on 127.0.0.1 (default {MOCK_PORT})")
    p.add_argument("--deploy-seconds", type=float, default=MOCK_DEPLOY_SECONDS, help="how long new endpoints stay Creating")
    p.add_argument("--realistic", action="store_true",
                   help=f"AWS-like provisioning: real-time {MOCK_REALISTIC_DEPLOY_SECONDS / 60:.0f} min, serverless "
                        f"{MOCK_REALISTIC_SERVERLESS_DEPLOY_SECONDS / 60:.0f} min (also ${MOCK_TIMINGS_ENV}=realistic)")
    p.add_argument("--time-scale", type=float, help=f"run the mock's clock faster, e.g. 0.01: 6 minutes in 3.6 s (also ${MOCK_TIME_SCALE_ENV})")
    p.add_argument("--cold-start-seconds", type=float, default=MOCK_COLD_START_SECONDS, help="first call to a serverless endpoint")
    p.add_argument("--instance-quota", type=int, default=MOCK_INSTANCE_QUOTA, help="endpoint instances allowed per instance type")
    p.add_argument("--verbose", action="store_true", help="log every request")

    p = add("deploy", cmd_deploy, "Deploy a Hugging Face model to an endpoint (Model -> EndpointConfig -> Endpoint).")
    p.add_argument("--model", default=models.DEFAULT.id,
                   help=f"Hugging Face model id, one of {', '.join(models.ids())} (default {models.DEFAULT.id})")
    p.add_argument("--name", help="endpoint name (default derm-assist-<owner>-<model>)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--instance-type", default=DEFAULT_INSTANCE_TYPE, help=f"real-time instance (default {DEFAULT_INSTANCE_TYPE})")
    group.add_argument("--serverless", action="store_true", help="serverless inference instead of an instance")
    p.add_argument("--memory", type=int, help="serverless memory in MB, 1024-6144 (default: what the model needs, from helpers/models.py)")
    p.add_argument("--max-concurrency", type=int, default=DEFAULT_SERVERLESS_CONCURRENCY, help="serverless max concurrency")
    p.add_argument("--role", help="execution role ARN (default: Studio's role or $DERM_ASSIST_ROLE_ARN)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    work(p)

    p = add("classify", cmd_classify, "Classify image files or folders on an endpoint.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders of images")
    p.add_argument("--endpoint", help="endpoint name (default: the remembered one)")
    p.add_argument("--top-k", type=int, default=DEFAULT_TOP_K)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    work(p)

    p = add("endpoints", cmd_endpoints, "List the pack's endpoints (found by tag) with status, age and estimated cost.")
    p.add_argument("--owner", help="only this owner's endpoints")

    p = add("cleanup", cmd_cleanup, "Delete an endpoint with its config and model, the data captured from it and its workflow "
                                    "(default: the remembered endpoint).")
    p.add_argument("name", nargs="?", help="endpoint to delete")
    p.add_argument("--all", action="store_true",
                   help="every endpoint of the pack in the account, and captured data or workflows left without one (coaches)")
    p.add_argument("--older-than", metavar="AGE", help="with --all: only those older than AGE, e.g. 4h, 90m, 2d")
    p.add_argument("--dry-run", action="store_true", help="say what would be deleted, delete nothing")
    work(p)

    p = add("run", cmd_run, "Execute the notebooks with papermill against the mock and write an HTML report.")
    p.add_argument("notebooks", nargs="*", help="notebooks to run (default: all, in order)")
    p.add_argument("--out", default=str(REPO_ROOT / "build"), help="output folder (default build/)")
    p.add_argument("--cards", help="curveball cards to run, comma-separated (default: all five)")
    p.add_argument("--no-mock", action="store_true", help="use the AWS account in the environment instead of the mock")
    p.add_argument("--faults", metavar="KEY=VALUE,...", help="inject faults into the mock for the whole run, e.g. throttle_rate=0.2,model_error_rate=0.05")

    p = add("record", cmd_record, "Re-record the ImageNet CNN's answers for the shipped images (needs the offline extra).")
    p.add_argument("--out", help="recordings file (default helpers/mock/recordings/imagenet.json)")

    p = add("proxies", cmd_proxies, "Regenerate the synthetic skin-lesion proxies.")
    p.add_argument("--out", default=str(REPO_ROOT / "skin_proxies"))
    p.add_argument("--seed", type=int, default=SKIN_PROXIES_SEED)

    p = add("portfolio", cmd_portfolio, "Build the one-file HTML portfolio of a learner's worksheets for the coach.")
    p.add_argument("--out", required=True, help="output HTML file")
    work(p)

    p = add("triage", cmd_triage, "Derm-Assist: classify one image on the skin model, give Benign / Potentially Concerning / Uncertain, and log it.")
    p.add_argument("image", metavar="IMAGE", help="the photo to assess (never a real patient image in this workshop)")
    p.add_argument("--endpoint", help="endpoint name (default: the remembered one)")
    p.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                   help=f"below this top score the outcome is Uncertain (default {DEFAULT_THRESHOLD})")
    p.add_argument("--note", help="reviewer note to keep in the log")
    work(p)

    p = add("app", cmd_app, "Serve the Derm-Assist web app (Gradio) on 127.0.0.1 over your endpoint; needs the 'app' extra.")
    p.add_argument("--endpoint", help="endpoint name (default: the remembered one, read at each assessment)")
    p.add_argument("--port", type=int, default=APP_PORT, help=f"port on 127.0.0.1 (default {APP_PORT})")
    p.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                   help=f"the threshold the page starts with (default {DEFAULT_THRESHOLD})")
    p.add_argument("--root-path", help="path prefix the app is reached under (default: JupyterLab's proxy path in Studio, else none)")
    work(p)

    p = add("faults", cmd_faults, "Show, set or clear faults in the running local mock.")
    p.add_argument("--set", nargs="+", metavar="KEY=VALUE", help="e.g. throttle_rate=0.2 model_error_rate=0.05 latency_ms=300")
    p.add_argument("--endpoint", help="only for this endpoint (default: every endpoint)")
    p.add_argument("--clear", action="store_true", help="remove every fault")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False) or os.environ.get("DERM_ASSIST_DEBUG") == "1"
    try:
        return int(args.func(args) or 0)
    except DermAssistError as exc:
        if debug:
            raise
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last resort: still one line (and the traceback with --debug)
        if debug:
            raise
        print(f"{PROG}: unexpected error: {type(exc).__name__}: {redact(' '.join(str(exc).split()))[:300]} (re-run with --debug for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
