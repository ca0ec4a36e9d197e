"""python -m bench [decode|sparse|app|worst|class] [--device cpu|cuda] [--threads N] [--quick] [--app-parts latency,first,startup,memory]
                 [--app-pages overview,sampling,...] [--students 1,10,30,60] [--duration 60] [--browsers 2] [--url URL] [--replicas 2] [--cpu-per-page MOVES] [--trace FILE]"""

from __future__ import annotations

import argparse

import torch

from bench import bench_app, bench_class, bench_decode, bench_sparse, bench_worst
from models.core.device import pick_device

SUITES = {"decode": bench_decode.main, "sparse": bench_sparse.main, "app": bench_app.main, "worst": bench_worst.main,
          "class": bench_class.main}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("suites", nargs="*", help=f"any of {', '.join(SUITES)} (default: all)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (default cpu)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    parser.add_argument("--quick", action="store_true", help="fewer tokens / lengths, for a smoke run")
    parser.add_argument("--app-parts", default=",".join(bench_app.PARTS),
                        help="parts of the app benchmark (default: all of latency,first,startup,memory)")
    parser.add_argument("--app-pages", default="",
                        help="comma-separated page keys for the app benchmark (default: every page)")
    parser.add_argument("--students", default=",".join(map(str, bench_class.LEVELS)),
                        help="class benchmark: comma-separated numbers of students, one level each (default 1,10,30,60)")
    parser.add_argument("--duration", type=float, default=60.0, help="class benchmark: seconds per level (default 60)")
    parser.add_argument("--browsers", type=int, default=2, help="class benchmark: real Chromium sessions (default 2)")
    parser.add_argument("--url", default=None,
                        help="class benchmark: a running server (e.g. a proxy) instead of starting one on loopback")
    parser.add_argument("--cpu-per-page", type=int, default=0, metavar="MOVES",
                        help="class benchmark: instead of the levels, the server CPU per request page by page, "
                             "one student at a time, MOVES random moves per session (2 sessions per page)")
    parser.add_argument("--browser-nice", type=int, default=bench_class.BROWSER_NICE,
                        help="class benchmark: niceness of its Chromium sessions and their scheduling group (default "
                             f"{bench_class.BROWSER_NICE}: the servers go first, as in class where the browsers run on the students' "
                             "computers; 0: as the servers)")
    parser.add_argument("--trace", default=None, metavar="FILE",
                        help="class benchmark: write every request (who, what, when, seconds) as JSON lines to FILE")
    parser.add_argument("--replicas", type=int, default=1,
                        help="class benchmark: app servers to start, behind nginx with deploy/nginx/app.conf when > 1")
    args = parser.parse_args()
    unknown = [name for name in args.suites if name not in SUITES]
    if unknown:
        parser.error(f"unknown benchmark {unknown}; choose from {list(SUITES)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    for name in args.suites or list(SUITES):
        if name == "app":
            bench_app.main(device, quick=args.quick, parts=tuple(args.app_parts.split(",")),
                           only_pages=tuple(filter(None, args.app_pages.split(","))))
        elif name == "class":
            bench_class.main(device, quick=args.quick, levels=tuple(int(n) for n in args.students.split(",") if n),
                             duration=args.duration, browsers=args.browsers, url=args.url, replicas=args.replicas,
                             cpu_moves=args.cpu_per_page, browser_nice=args.browser_nice, trace=args.trace, pages=tuple(filter(None, args.app_pages.split(","))))
        else:
            SUITES[name](device, quick=args.quick)


if __name__ == "__main__":
    main()
