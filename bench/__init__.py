"""Load benchmarks against the real stack (gunicorn + PostgreSQL); see bench/README.md."""
