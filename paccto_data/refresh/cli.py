"""The command: `python -m paccto_data.refresh <source_id>` (`make refresh SOURCE=...`)."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from paccto_data.acquire.promote import VINTAGE, load, require_bundlable, snapshot_dir, yaml_path
from paccto_data.errors import LockBusyError, PacctoError
from paccto_data.http import HttpClient
from paccto_data.lock import data_lock
from paccto_data.refresh.compare import compare
from paccto_data.refresh.download import download
from paccto_data.refresh.promotion import promote
from paccto_data.refresh.report import DEFAULT_LIMIT, format_report, shown
from paccto_data.settings import ASSETS_DIR, Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m paccto_data.refresh",
        description="Download a source's current upstream files, report what changed against "
                    "the bundled snapshot, and on confirmation promote them into "
                    "assets/snapshots/<id>/ and its YAML.")
    parser.add_argument("source", help="source id (assets/sources/<id>.yaml)")
    parser.add_argument("--yes", action="store_true",
                        help="promote without asking (for scripts)")
    parser.add_argument("--vintage", help="the publisher's release of the new files "
                                          "(YYYY, YYYY-MM or YYYY-MM-DD); asked for otherwise")
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT,
                        help=f"differences listed per table (default {DEFAULT_LIMIT})")
    parser.add_argument("--raw-dir", type=Path,
                        help="keep the downloads in <raw-dir>/<id>/ (default: a temporary "
                             "folder, removed afterwards)")
    parser.add_argument("--removal-reason",
                        help="why the publisher dropped rows, when it did: recorded on "
                             "promotion in assets/sources/removals/<id>.yaml, and given for "
                             "each dropped row in the packages' CHANGELOG.md")
    parser.add_argument("--assets-root", type=Path, default=ASSETS_DIR,
                        help="the assets folder to compare with and promote into (default: "
                             "the project's; tests use a copy)")
    return parser


def _ask(question: str, stdin, stdout) -> str | None:
    stdout.write(question)
    stdout.flush()
    line = stdin.readline()
    return None if not line else line.strip()


def _ask_vintage(current: str, stdin, stdout) -> str | None:
    for _ in range(3):
        answer = _ask(f"Vintage of the new files (the publisher's release, YYYY[-MM[-DD]]) "
                      f"[{current}]: ", stdin, stdout)
        if answer is None:
            return None
        answer = answer or current
        if VINTAGE.match(answer):
            return answer
        stdout.write(f"  {answer!r} is not YYYY, YYYY-MM or YYYY-MM-DD\n")
    return None


def _record_removals(source_id: str, vintage: str, reason: str | None, report, assets_root: Path,
                     out) -> None:
    """When the promoted files dropped rows: record why (--removal-reason), or say how to."""
    from paccto_data.publication.versions import record_removal

    gone = [t.removed for t in report.tables if t.counts[1]]
    if not gone:
        return
    if not reason:
        print(f"The new files drop rows: record why in "
              f"{shown(assets_root / 'sources' / 'removals' / (source_id + '.yaml'))} (or "
              "refresh with --removal-reason); the packages' CHANGELOG.md lists them.",
              file=out)
        return
    removed = [row for table in gone for row in table.to_pylist()]
    path = record_removal(source_id, vintage, reason, removed, assets_root / "sources")
    print(f"Recorded why the rows were dropped in {shown(path)}.", file=out)


def main(argv: Sequence[str] | None = None, *, client: HttpClient | None = None) -> int:
    """Holds the lock of the data directory (paccto_data/lock.py) throughout: a build never
    reads a snapshot that a refresh is replacing."""
    args = _parser().parse_args(argv)
    try:
        with data_lock(Settings.from_env(), f"refresh {args.source}"):
            return _main(args, client)
    except LockBusyError as exc:
        print(f"refresh: {exc}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace, client: HttpClient | None) -> int:
    out, stdin = sys.stdout, sys.stdin
    if args.vintage is not None and not VINTAGE.match(args.vintage):
        print(f"refresh: --vintage {args.vintage!r} is not YYYY, YYYY-MM or YYYY-MM-DD",
              file=sys.stderr)
        return 2
    temporary = None
    try:
        source = load(args.source, args.assets_root)
        require_bundlable(source)
        raw_dir = args.raw_dir
        if raw_dir is None:
            temporary = tempfile.mkdtemp(prefix=f"paccto-refresh-{source.id}-")
            raw_dir = Path(temporary)
        print(f"Downloading {source.id} ({len(source.files)} files) into "
              f"{Path(raw_dir) / source.id} …", file=out, flush=True)
        raws = download(source, raw_dir, client, args.assets_root)
        retrieved = min(r.retrieved for r in raws.values())
        report = compare(source, snapshot_dir(source.id, args.assets_root),
                         {i: r.path for i, r in raws.items()}, retrieved)
        print(format_report(report, max(args.limit, 0)), file=out, flush=True)
        if not report.changed:
            return 0
        if report.new_errors:
            print("Not promoted: the source's tidy functions reject the downloaded files "
                  f"({', '.join(t.table for t in report.new_errors)}); adapt "
                  f"paccto_data/sources/{source.id}.py first.", file=out)
            return 2
        target = f"{shown(snapshot_dir(source.id, args.assets_root))}/ and " \
                 f"{shown(yaml_path(source.id, args.assets_root))}"
        vintage = args.vintage
        if not args.yes:
            if not (stdin is not None and stdin.isatty()):
                print("Not promoted: no terminal to confirm on; run again with --yes "
                      "(and --vintage) to promote.", file=out)
                return 1
            answer = _ask(f"Promote the new files into {target}? [y/N] ", stdin, out)
            if (answer or "").lower() not in ("y", "yes"):
                print("Not promoted; nothing changed.", file=out)
                return 1
            if vintage is None:
                vintage = _ask_vintage(source.vintage, stdin, out)
                if vintage is None:
                    print("Not promoted: no vintage given; nothing changed.", file=out)
                    return 1
        if vintage is None:
            vintage = source.vintage
            print(f"Vintage left at {vintage!r} (no --vintage given).", file=out)
        replaced = promote(source.id, report.downloaded, retrieved=retrieved[:10],
                           vintage=vintage, urls={i: r.url for i, r in raws.items()},
                           reviewed={f.file_id: f.new_sha256 for f in report.files},
                           assets_root=args.assets_root)
        print(f"Promoted {', '.join(replaced) or 'no files (the YAML record only)'} into "
              f"{target}: retrieved {retrieved[:10]}, vintage {vintage}.", file=out)
        _record_removals(source.id, vintage, args.removal_reason, report, args.assets_root,
                         out)
        print(f"Review the description, notes, coverage and citation in "
              f"{shown(yaml_path(source.id, args.assets_root))}: they may still describe the "
              "old release.", file=out)
        return 0
    except PacctoError as exc:
        print(f"refresh: {exc}", file=sys.stderr)
        return 2
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)

