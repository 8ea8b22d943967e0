"""Shared test settings, as an entry point would set them: one torch thread (2 threads are
erratic on the 2-core CI machine) and a headless matplotlib backend (library code sets neither)."""

from common.process import setup_process

setup_process(threads=1, plots=True)
