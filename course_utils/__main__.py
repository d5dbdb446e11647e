"""Command line of the course: ``python -m course_utils <release|grade|export> --help``."""

from __future__ import annotations

import argparse
import sys

from course_utils.grading.config import InstructorError, assignments, check_assignment, load_config


def _release(args) -> int:
    from course_utils.grading.release import release

    cfg = load_config()
    names = [check_assignment(cfg, args.assignment)] if args.assignment else assignments(cfg)
    if not names:
        raise InstructorError("no solutions/weekNN/ folders to release")
    for name in names:
        print(f"released {release(cfg, name).relative_to(cfg.CourseDirectory.root)}/")
    return 0


def _grade(args) -> int:
    from course_utils.grading.pipeline import grade_batch

    return grade_batch(
        assignment=args.assignment, submissions=args.submissions, out=args.out, timeout=args.timeout,
        memory_mb=args.memory, db_url=args.db_url, jobs=args.jobs, students=args.student,
        no_sandbox=args.no_sandbox, on_flag=args.on_flag, export=args.export or [], roster=args.roster,
        allow_missing=args.allow_missing,
    )


def _export(args) -> int:
    from course_utils.grading.pipeline import export_batch

    return export_batch(assignment=args.assignment, out=args.out, export=args.export or [], roster=args.roster,
                        db_url=args.db_url, allow_missing=args.allow_missing)


def _lms_options(p) -> None:
    p.add_argument("--export", action="append", choices=["canvas", "moodle"], metavar="LMS",
                   help="also write an import file for this LMS into OUT/lms/: canvas or moodle (repeatable)")
    p.add_argument("--roster", metavar="CSV",
                   help="CSV with columns student,lms_id[,name,section] mapping student ids to LMS ids (for --export); "
                        "ids are normalised as hand-in names are ('José Ñandú' -> 'José_Ñandú')")
    p.add_argument("--allow-missing", action="store_true",
                   help="exit 0 even when graded students are not in the roster (they are left out of the LMS "
                        "files); without it that exits with status 3")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course_utils", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    rel = sub.add_parser("release", help="regenerate exercises/weekNN/ from solutions/weekNN/")
    rel.add_argument("--assignment", metavar="weekNN", help="only this week (default: every week in solutions/)")
    rel.set_defaults(run=_release)

    gr = sub.add_parser("grade", help="autograde a folder of submissions into a gradebook, grades.csv and feedback")
    gr.add_argument("--assignment", required=True, metavar="weekNN", help="the week to grade, e.g. week01")
    gr.add_argument("--submissions", required=True, metavar="DIR",
                    help="folder with <student-id>.ipynb or <student-id>/<anything>.ipynb per student")
    gr.add_argument("--out", default="grading_out", metavar="DIR",
                    help="where gradebook.db, grades.csv, feedback/ and autograded/ go (default: grading_out)")
    gr.add_argument("--timeout", type=float, default=60, metavar="S", help="time limit per cell in seconds (default 60)")
    gr.add_argument("--memory", type=int, default=4096, metavar="MB",
                    help="address-space cap of each student's kernel in MB (default 4096)")
    gr.add_argument("--db-url", default=None, metavar="URL",
                    help="gradebook database (default: $COURSE_GRADEBOOK_URL, else sqlite in --out)")
    gr.add_argument("--jobs", type=int, default=None, metavar="N",
                    help="submissions graded at the same time (default: number of CPU cores, at most 4)")
    gr.add_argument("--student", action="append", metavar="ID",
                    help="grade only this student (repeatable); the others keep their rows")
    gr.add_argument("--no-sandbox", action="store_true",
                    help="run student code without the bubblewrap sandbox, with your own rights (not recommended; "
                         "the default refuses where no sandbox is available)")
    gr.add_argument("--on-flag", choices=["keep", "zero"], default="keep",
                    help="a submission flagged by the code scan keeps its score for review (keep, default) or "
                         "scores 0 (zero)")
    _lms_options(gr)
    gr.set_defaults(run=_grade)

    ex = sub.add_parser("export", help="re-write grades.csv, report.html and the LMS files from the gradebook "
                                       "(no re-grading), e.g. after fixing the roster")
    ex.add_argument("--assignment", required=True, metavar="weekNN", help="the graded week, e.g. week01")
    ex.add_argument("--out", default="grading_out", metavar="DIR", help="the output folder of the grade command")
    ex.add_argument("--db-url", default=None, metavar="URL",
                    help="gradebook database (default: $COURSE_GRADEBOOK_URL, else sqlite in --out)")
    _lms_options(ex)
    ex.set_defaults(run=_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except InstructorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
