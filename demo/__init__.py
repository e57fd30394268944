"""Demo data: the ``seed_demo`` command and the content it loads. Sits above every other app."""
