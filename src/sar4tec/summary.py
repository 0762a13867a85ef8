"""Region summary after a run: frames done and failed (with why), time and core-hours per rule.

Written by the Snakefile's ``onsuccess``/``onerror`` hooks and by ``sar4tec summary``, from
files any run leaves behind, on a laptop or on SLURM alike:

* the rule logs ``logs/{frame}/**/*.log`` (and ``logs/*.log`` for region-wide rules), in which
  :func:`sar4tec.rulelog.rule_logging` writes ``<rule> started with <n> thread(s)``,
  ``<rule> finished in <s> s`` and, on an exception, ``<rule> failed`` with the traceback;
* the products ``results/{frame}/`` (a frame is *done* when all of them exist);
* Snakemake's own log of the run (``Error in rule ...`` blocks: failures that never reached a
  rule log, e.g. missing outputs) and, on SLURM, the job logs
  ``.snakemake/slurm_logs/**/<jobid>.log`` of jobs whose rule log ends without a verdict (killed
  for time or memory).

A rule's time is that of its latest execution (a rule log is rewritten on each run); the
core-hours are threads x wall time.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sar4tec.files import atomic_output

_STAMP = r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ \w+ sar4tec: "
_STARTED = re.compile(_STAMP + r"(\S+) started with (\d+) thread\(s\)(?:.*SLURM job (\S+))?")
_FINISHED = re.compile(_STAMP + r"(\S+) finished in ([\d.]+) s")
_FAILED = re.compile(_STAMP + r"(\S+) failed$")
_ANY_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ")
_SMK_ERROR = re.compile(r"^Error in rule (\S+):")


@dataclass
class RuleRun:
    """One rule execution as its log tells it."""

    rule: str
    frame: str | None
    log: str
    threads: int = 1
    started: str | None = None
    seconds: float | None = None
    status: str = "unfinished"  # finished, failed or unfinished (killed, or still running)
    reason: str = ""
    slurm_job: str | None = None

    @property
    def core_hours(self) -> float:
        """Threads x wall time, in hours (0 if the time is unknown)."""
        return self.threads * (self.seconds or 0.0) / 3600.0


def parse_rule_log(path: str | os.PathLike, frame: str | None = None) -> RuleRun | None:
    """The execution recorded in a rule log, or None if it holds no ``started`` line."""
    path = Path(path)
    run: RuleRun | None = None
    traceback: list[str] = []
    in_traceback = False
    for line in path.read_text(errors="replace").splitlines():
        if m := _STARTED.match(line):
            run = RuleRun(m[2], frame, str(path), int(m[3]), m[1], slurm_job=m[4])
            in_traceback = False
        elif run is None:
            continue
        elif _FAILED.match(line):
            run.status, in_traceback, traceback = "failed", True, []
        elif m := _FINISHED.match(line):
            run.seconds = float(m[3])
            if run.status != "failed":
                run.status = "finished"
            in_traceback = False
        elif in_traceback and not _ANY_RECORD.match(line):
            traceback.append(line)
        else:
            in_traceback = False
    if run is None:
        return None
    if run.status == "failed":
        lines = [t.strip() for t in traceback if t.strip()]
        run.reason = lines[-1] if lines else "failed (no traceback in the log)"
    elif run.status == "unfinished":
        run.reason = "the log ends before the rule finished (killed, or still running)"
    return run


def _slurm_reason(job: str, root: Path, logs: Path) -> str | None:
    """Last error line of the SLURM job log ``<job>.log``.

    The executor writes job logs to ``.snakemake/slurm_logs/`` or, with the profiles'
    ``slurm-logdir: logs/slurm``, to ``<logs>/slurm/``.
    """
    folders = (root / ".snakemake" / "slurm_logs", logs / "slurm")
    for log in (path for folder in folders for path in folder.rglob(f"{job}.log")):
        errors = [
            line.strip()
            for line in log.read_text(errors="replace").splitlines()
            if re.search(r"error|cancelled|killed|oom", line, re.IGNORECASE)
        ]
        if errors:
            return errors[-1]
    return None


def snakemake_errors(
    logs: str | os.PathLike | Sequence[str | os.PathLike] | None,
) -> dict[str, tuple[str, str]]:
    """``{frame: (rule, message)}`` of the ``Error in rule`` blocks of Snakemake's run log(s)."""
    if logs is None:
        return {}
    out: dict[str, tuple[str, str]] = {}
    for log in [logs] if isinstance(logs, str | os.PathLike) else logs:
        if not Path(log).exists():
            continue
        lines = Path(log).read_text(errors="replace").splitlines()
        for k, line in enumerate(lines):
            if not (m := _SMK_ERROR.match(line)):
                continue
            frame, message = None, ""
            for follow in lines[k + 1 : k + 30]:
                text = follow.strip()
                if not text:
                    break
                if text.startswith("wildcards:"):
                    found = re.search(r"frame=([^,\s]+)", text)
                    frame = found[1] if found else None
                elif not re.match(
                    r"^(jobid|input|output|log|conda-env|threads|shell|message)\b", text
                ):
                    message = text
            if frame:
                out[frame] = (m[1], message or f"rule {m[1]} failed (see Snakemake's log {log})")
    return out


@dataclass
class Summary:
    """The region summary (``results/summary.json``)."""

    status: str
    generated: str
    frames_done: list[str] = field(default_factory=list)
    frames_failed: dict[str, dict[str, str]] = field(default_factory=dict)
    frames_incomplete: list[str] = field(default_factory=list)
    rules: dict[str, dict[str, float]] = field(default_factory=dict)
    total_core_hours: float = 0.0
    runs: list[dict] = field(default_factory=list)


def summarise(
    frames: Sequence[str],
    results: str | os.PathLike,
    logs: str | os.PathLike,
    product_files: Iterable[str],
    status: str = "unknown",
    snakemake_log: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    root: str | os.PathLike = ".",
) -> Summary:
    """Collect the summary of a region's frames from rule logs, products and run logs.

    Parameters
    ----------
    frames : sequence of str
        The frames of the configuration.
    results, logs : path
        The ``paths.results`` and ``paths.logs`` folders.
    product_files : iterable of str
        Names of a frame's products (``sar4tec.products.stage.PRODUCT_FILES``).
    status : str
        How the run ended (``success``, ``error``), as the hook knows it.
    snakemake_log : path or list of paths, optional
        Snakemake's log(s) of the run (the hooks receive them).
    root : path
        Working directory of the run (for ``.snakemake/slurm_logs``).
    """
    results, logs, root = Path(results), Path(logs), Path(root)
    products = list(product_files)
    runs: list[RuleRun] = []
    for frame in frames:
        for path in sorted((logs / str(frame)).rglob("*.log")):
            if run := parse_rule_log(path, str(frame)):
                runs.append(run)
    for path in sorted(logs.glob("*.log")):
        if run := parse_rule_log(path):
            runs.append(run)
    for run in runs:
        if run.status == "unfinished" and run.slurm_job not in (None, "none"):
            run.reason = _slurm_reason(run.slurm_job, root, logs) or run.reason
    smk = snakemake_errors(snakemake_log)
    summary = Summary(status=status, generated=datetime.now(UTC).isoformat(timespec="seconds"))
    for frame in map(str, frames):
        if all((results / frame / name).exists() for name in products):
            summary.frames_done.append(frame)
            continue
        bad = [r for r in runs if r.frame == frame and r.status != "finished"]
        if bad:
            worst = next((r for r in bad if r.status == "failed"), bad[0])
            summary.frames_failed[frame] = {
                "rule": worst.rule,
                "reason": worst.reason,
                "log": worst.log,
            }
        elif frame in smk:
            rule, message = smk[frame]
            summary.frames_failed[frame] = {"rule": rule, "reason": message, "log": ""}
        else:
            summary.frames_incomplete.append(frame)
    for run in runs:
        entry = summary.rules.setdefault(
            run.rule,
            {"jobs": 0, "failed": 0, "seconds": 0.0, "max_seconds": 0.0, "core_hours": 0.0},
        )
        entry["jobs"] += 1
        entry["failed"] += run.status != "finished"
        entry["seconds"] += run.seconds or 0.0
        entry["max_seconds"] = max(entry["max_seconds"], run.seconds or 0.0)
        entry["core_hours"] += run.core_hours
    summary.total_core_hours = sum(r.core_hours for r in runs)
    summary.runs = [asdict(r) for r in runs]
    return summary


def to_markdown(summary: Summary) -> str:
    """The summary as a readable Markdown page (``results/summary.md``)."""
    lines = [
        "# sar4tec region summary",
        "",
        f"Run status: **{summary.status}**, written {summary.generated}.",
        "",
        f"- frames done: {len(summary.frames_done)}"
        + (f" ({', '.join(summary.frames_done)})" if summary.frames_done else ""),
        f"- frames failed: {len(summary.frames_failed)}",
        f"- frames incomplete (not run yet, or waiting on a failed job): "
        f"{len(summary.frames_incomplete)}"
        + (f" ({', '.join(summary.frames_incomplete)})" if summary.frames_incomplete else ""),
        f"- core-hours (latest execution of each job): {summary.total_core_hours:.3f}",
        "",
    ]
    if summary.frames_failed:
        lines += ["## Failed frames", "", "| frame | rule | reason | log |", "|---|---|---|---|"]
        for frame, info in sorted(summary.frames_failed.items()):
            reason = info["reason"].replace("|", "\\|")
            lines.append(f"| {frame} | {info['rule']} | {reason} | {info['log']} |")
        lines.append("")
    lines += [
        "## Time per rule",
        "",
        "| rule | jobs | failed | wall time (s) | longest job (s) | core-hours |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for rule, e in sorted(summary.rules.items(), key=lambda kv: -kv[1]["core_hours"]):
        lines.append(
            f"| {rule} | {e['jobs']} | {e['failed']} | {e['seconds']:.1f} | "
            f"{e['max_seconds']:.1f} | {e['core_hours']:.4f} |"
        )
    return "\n".join(lines) + "\n"


def write_summary(
    frames: Sequence[str],
    results: str | os.PathLike,
    logs: str | os.PathLike,
    status: str = "unknown",
    snakemake_log: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    root: str | os.PathLike = ".",
) -> Summary:
    """Write ``results/summary.json`` and ``results/summary.md`` (see :func:`summarise`)."""
    from sar4tec.products.stage import PRODUCT_FILES

    summary = summarise(frames, results, logs, PRODUCT_FILES, status, snakemake_log, root)
    results = Path(results)
    results.mkdir(parents=True, exist_ok=True)
    with atomic_output(results / "summary.json") as tmp:
        tmp.write_text(json.dumps(asdict(summary), indent=1) + "\n")
    with atomic_output(results / "summary.md") as tmp:
        tmp.write_text(to_markdown(summary))
    return summary
