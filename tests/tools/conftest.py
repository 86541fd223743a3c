"""The tools' tests. ``data/`` holds broken files and a failing bot test on purpose: it
is input to the tests here, not something pytest should collect."""

collect_ignore = ["data"]
