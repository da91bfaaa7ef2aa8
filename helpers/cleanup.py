"""What the pack has running, what it costs so far, and deleting it: the one place for the CLI and notebook 99.

``derm-assist endpoints`` and notebook 99 print :func:`endpoint_report`; ``derm-assist cleanup`` and
notebook 99 delete with :func:`cleanup`. Endpoints are found by the pack's ``project`` tag. One whose
tags cannot be read is listed with an unknown owner and never deleted blind: cleanup says so, and how
to delete it by name, and reports that not everything is known to be gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import batch, costs, endpoint, state
from .core import aws
from .core import owner as owner_rules
from .core.errors import BadInputError, DermAssistError, EndpointNotFoundError, explain_aws_error
from .core.owner import OwnerUnknownError

COLUMNS = ("name", "status", "model", "size", "owner", "age", "cost so far")
COST_NOTE = "Costs are estimates from list prices in helpers/data/sagemaker_prices.csv, not your bill."


def format_table(rows: list[dict], columns) -> str:
    """Rows as a fixed-width text table with an upper-case header ("" for no rows)."""
    if not rows:
        return ""
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in columns)]
    lines += ["  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


@dataclass
class EndpointReport:
    """The pack's endpoints in one region, oldest first."""

    endpoints: list[endpoint.EndpointInfo]
    region: str
    owner: str | None = None  # only this owner's endpoints are listed
    others: int = 0  # the pack's endpoints of other owners (counted, never listed)

    def rows(self) -> list[dict]:
        return [{"name": info.name, "status": info.status, "model": info.model_id or info.unknown, "size": info.kind,
                 "owner": info.owner, "age": costs.format_age(info.age), "cost so far": costs.format_cost(costs.estimate_cost(info))}
                for info in self.endpoints]

    def text(self) -> str:
        if not self.endpoints:
            return f"No endpoints of the pack in {self.region}."
        return f"{format_table(self.rows(), COLUMNS)}\n{COST_NOTE}"

    def summary(self) -> str:
        """One sentence for a learner: how many are still running, and who can clean them up."""
        count = len(self.endpoints)
        if self.owner is None:
            hint = " If they are your group's, a coach can run `derm-assist cleanup --all --older-than 4h`." if count else ""
            return f"{count} endpoint(s) of the pack still running.{hint}"
        text = f"{count} endpoint(s) of yours ({self.owner}) still running."
        if self.others:
            text += (f" {self.others} more of the pack belong to other learners; a coach can remove the group's with "
                     "`derm-assist cleanup --all --older-than 4h`.")
        return text


def endpoint_report(owner: str | None = None, *, mine: bool = False) -> EndpointReport:
    """Every endpoint of the pack (only ``owner``'s when given) with status, size, owner, age and estimated cost.

    ``mine``: only the learner's own (see :mod:`helpers.core.owner`); the others are counted, not listed.
    When nothing tells who the learner is, every endpoint of the pack is listed.
    """
    everything = endpoint.list_pack_endpoints()
    if mine and owner is None:
        try:
            owner = endpoint.default_owner()
        except OwnerUnknownError:
            owner = None
    if owner is None:
        return EndpointReport(everything, aws.region())
    owner = owner_rules.normalize(owner)
    ours = [e for e in everything if e.tags_error or e.tags.get(endpoint.TAG_OWNER) == owner]
    return EndpointReport(ours, aws.region(), owner=owner, others=len(everything) - len(ours))


@dataclass
class CleanupResult:
    """What a cleanup did (or would do), line by line; ``skipped`` names what it could not check."""

    lines: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Nothing was passed over: everything of the pack that was found is gone (or would be)."""
        return not self.skipped

    def text(self) -> str:
        return "\n".join(self.lines)


def _skip_line(kind: str, name: str, why: str) -> str:
    remedy = f"delete it by name: derm-assist cleanup {name}" if kind == "endpoint" else "delete it in the SageMaker console"
    return f"skipped {kind} {name}: its tags could not be read ({why}), so it may not be the pack's. Check it, then {remedy}."


def cleanup(name: str | None = None, *, everything: bool = False, older_than: str | None = None, dry_run: bool = False,
            work_dir=None, nothing_remembered_ok: bool = False) -> CleanupResult:
    """Delete endpoint ``name`` (default: the remembered one), or with ``everything`` every endpoint of the pack
    (only those older than ``older_than``, e.g. ``"4h"``) and the configs and models left behind.

    An endpoint goes with the data Data Capture wrote for it and the workflow made for it; ``everything`` also
    removes captured data and workflows whose endpoint no longer exists (and the capture bucket, once no
    endpoint of the pack is left).
    Batch Transform inputs and outputs go too: the learner's own (without ``name``), or with ``everything``
    every owner's.

    ``dry_run`` says what would be deleted and deletes nothing. Safe to re-run.
    """
    if name and everything:
        raise BadInputError("Give an endpoint NAME or --all, not both.")
    if older_than and not everything:
        raise BadInputError("--older-than goes with --all (a coach cleaning up the whole account).")
    result = CleanupResult()
    if everything or not name:
        _delete_batch_objects(result, None if everything else endpoint.default_owner(), dry_run)
    if everything:
        age = endpoint.parse_age(older_than) if older_than else None
        targets = endpoint.select_for_cleanup(endpoint.list_pack_endpoints(), age)
        for info in targets:
            if info.tags_error:
                result.skipped.append(info.name)
                result.lines.append(_skip_line("endpoint", info.name, info.tags_error))
        names = [t.name for t in targets if not t.tags_error]
    elif name:
        names = [name]
    else:  # the remembered endpoint and any a notebook started ahead of time (00 for 01, 03 for 04)
        remembered = state.load_state(work_dir).get("endpoint_name")
        started = [s["endpoint_name"] for s in state.started_endpoints(work_dir)]
        if not remembered and not started and nothing_remembered_ok:
            result.lines.append("No endpoint remembered: nothing of yours to delete.")
            return result
        names = list(dict.fromkeys(([remembered] if remembered else []) + started)) or [state.current_endpoint(work_dir)]
        kept = []
        for target in names:  # a remembered name tagged with another owner is forgotten, never deleted
            refusal = _not_yours(target)
            if refusal:
                state.forget_endpoint(target, work_dir)
                result.skipped.append(target)
                result.lines.append(refusal)
            else:
                kept.append(target)
        names = kept
    for target in names:
        if dry_run:
            data = endpoint.delete_endpoint_data(target, dry_run=True, strict=False)
            result.lines.append(f"would delete {target} (endpoint, its config and model" + "".join(f", {d}" for d in data) + ")")
            continue
        try:
            deleted = endpoint.delete_endpoint(target, wait_if_creating=not everything)  # --all never blocks on one stuck Creating
        except DermAssistError as exc:  # e.g. still Creating: SageMaker refuses; say so, keep it remembered, go on
            result.skipped.append(target)
            result.lines.append(f"{target}: not deleted: {exc} Run the cleanup again in a few minutes.")
            continue
        state.forget_endpoint(target, work_dir)
        result.lines.append(f"{target}: " + (", ".join(deleted) + " deleted" if deleted else "already gone"))
    orphans = endpoint.find_orphans() if everything else endpoint.Orphans()
    for kind, orphan in orphans.found:  # left behind by an interrupted deploy or swap
        result.lines.append(f"{'would delete' if dry_run else 'deleting'} leftover {kind} {orphan}")
    for kind, orphan, why in orphans.unreadable:
        result.skipped.append(orphan)
        result.lines.append(_skip_line(kind, orphan, why))
    if orphans.found and not dry_run:
        endpoint.delete_orphans(orphans.found)
    leftovers = _leftover_data(set(names), dry_run) if everything else []
    for item in leftovers:  # captured data and workflows whose endpoint is gone
        result.lines.append(f"{'would delete' if dry_run else 'deleted'} leftover {item}")
    if not result.lines:
        result.lines.append("Nothing to clean up.")
    return result


def _not_yours(name: str) -> str | None:
    """Why the remembered endpoint is not deleted (another owner's tag), or None. Without a known owner the
    state file in the learner's own work folder is trusted: it names what they deployed."""
    try:
        info = endpoint.describe(name)
        endpoint.check_owned(info, endpoint.default_owner(), "deleted")
    except (EndpointNotFoundError, OwnerUnknownError):
        return None
    except BadInputError as exc:
        return f"{exc} (forgotten here; nothing deleted)"
    return None


def _delete_batch_objects(result: CleanupResult, owner: str | None, dry_run: bool) -> None:
    """Batch Transform objects in the pack's bucket; an S3 problem is reported and skipped, never fatal."""
    try:
        result.lines += batch.delete_objects(owner, dry_run=dry_run)
    except (DermAssistError, *aws.ERRORS) as exc:  # no permission for STS or S3, say: say so, go on with the endpoints
        reason = exc if isinstance(exc, DermAssistError) else explain_aws_error(exc, action="Listing Batch Transform objects")
        result.skipped.append("batch-transform objects")
        result.lines.append(f"skipped Batch Transform objects: {reason}")


def _leftover_data(deleting: set[str], dry_run: bool) -> list[str]:
    """Captured data (notebook 06) and state machines of endpoints that no longer exist, or are being deleted now.

    When no endpoint of the pack is left, the pack's capture bucket goes too.
    """
    from . import capture
    from .workflow import state_machine

    existing = set(endpoint.all_endpoint_names())  # in a dry run, still including those listed for deletion
    pack_left = [e for e in endpoint.list_pack_endpoints() if e.name not in deleting]
    return (capture.delete_orphan_capture(existing - deleting, going=deleting, remove_bucket=not pack_left, dry_run=dry_run)
            + state_machine.delete_workflows(keep=existing, dry_run=dry_run))
