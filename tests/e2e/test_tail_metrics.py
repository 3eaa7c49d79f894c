#!/usr/bin/env python3
"""test_tail_metrics.py: every place the file input drops, cuts or skips something is counted in
/metrics and said in the log (issue 13, per-input metrics), and the tail gauges are there.

1. max_files: a glob matching more files than max_files: the extra ones are skipped, counted
   (logwarden_tail_files_skipped_total) and logged.
2. A line over max_line_bytes is cut: logwarden_tail_lines_cut_total, a warning.
3. A compressed rotation (app.log.1.gz appearing with the rotation) is skipped:
   logwarden_tail_rotated_skipped_total, a warning.
4. A truncation with no rotated copy: logwarden_tail_truncations_total and
   logwarden_tail_copytruncate_unmatched_total, a warning naming the offset after which lines
   may be lost.
5. Gauges: logwarden_tail_files (files followed) and logwarden_tail_bytes_behind per file.

usage: test_tail_metrics.py PATH/TO/logwarden
"""

import gzip
import os
import time

import e2e
import tailkit


def main():
    c = e2e.Checks()
    s = tailkit.Setup("tail_metrics", ["*.log"], poll="50ms",
                      extra="    max_files: 2\n    max_line_bytes: 64\n")
    for name in ("a.log", "b.log", "c.log"):
        tailkit.write_lines(s.join(name), 0, 1, "w")
    d = s.daemon()
    try:
        c.check(e2e.wait_for(lambda: (s.metric("logwarden_tail_files_skipped_total") or 0) >= 1,
                             10), "1. a file over max_files is counted as skipped")
        c.check(e2e.wait_for(lambda: "max_files (2) reached, not following" in d.stderr(), 5),
                "1. and logged", e2e.tail(d.stderr()))
        c.eq(s.metric("logwarden_tail_files"), 2, "5. two files are followed")
        followed = [n for n in ("a.log", "b.log", "c.log")
                    if f"following {s.join(n)} " in d.stderr()]
        c.eq(len(followed), 2, "two of the three files are followed")
        f = s.join(followed[0])

        # 2. An over-long line.
        with open(f, "a") as fh:
            fh.write("x" * 200 + "\n")
        c.check(e2e.wait_for(lambda: s.metric("logwarden_tail_lines_cut_total") == 1, 10),
                "2. the over-long line is counted as cut")
        c.check(e2e.wait_for(lambda: "line(s) cut at max_line_bytes (64)" in d.stderr(), 5),
                "2. and logged")

        # 3. A rotation whose older generation is compressed.
        with gzip.open(f + ".1.gz", "wt") as gz:
            gz.write("seq 999\n")
        os.rename(f, f + ".1")
        tailkit.write_lines(f, 1, 2, "w")
        c.check(e2e.wait_for(lambda: (s.metric("logwarden_tail_rotations_total") or 0) >= 1, 10),
                "the rotation is counted")
        c.check(e2e.wait_for(
            lambda: (s.metric("logwarden_tail_rotated_skipped_total") or 0) >= 1, 10),
            "3. the compressed rotation is counted as skipped")
        c.check("compressed rotation skipped" in d.stderr(), "3. and logged")

        # 4. A truncation nobody copied.
        g = s.join(followed[1])
        tailkit.write_lines(g, 1, 50)
        time.sleep(0.3)
        os.truncate(g, 0)
        c.check(e2e.wait_for(lambda: (s.metric("logwarden_tail_truncations_total") or 0) >= 1,
                             10), "4. the truncation is counted")
        c.check(e2e.wait_for(
            lambda: (s.metric("logwarden_tail_copytruncate_unmatched_total") or 0) >= 1, 10),
            "4. with no rotated copy found")
        c.check("no rotated copy of it was found: lines after offset" in d.stderr(),
                "4. and logged")

        # 5. Bytes behind, per file, with its path; 0 once read.
        m = {}

        def behind():
            m.clear()
            m.update({k: v for k, v in e2e.metrics(s.port).items()
                      if k.startswith("logwarden_tail_bytes_behind{")})
            return any(f'path="{g}"' in k for k in m) and all(v == 0 for v in m.values())
        c.check(e2e.wait_for(behind, 10), "5. bytes behind per file, 0 once read", str(m))
    finally:
        c.eq(d.stop(), 0, "clean stop")
    s.tmp.cleanup()
    c.finish()


if __name__ == "__main__":
    main()
