"""Puts a script's latest table into perf/README.md between its markers.

put(readme, section, table) replaces the text between <!-- BEGIN section --> and <!-- END section -->
with the table (appended with its markers when they are missing), so that a script's next run
replaces its own last table and leaves the rest of the document, the prose around it, alone.
Imported by the perf scripts' inline Python (perf/lib.sh's perf_report, memory.sh,
nbd-server-rss.sh).
"""
import os


def put(readme, section, table):
    begin, end = f"<!-- BEGIN {section} -->", f"<!-- END {section} -->"
    text = open(readme).read() if os.path.exists(readme) else "# extentflow performance\n"
    block = f"{begin}\n{table}\n{end}"
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(readme, "w") as f:
        f.write(text)
