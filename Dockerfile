# The one image behind web, worker, beat and migrate (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=closegap.settings.production

WORKDIR /app
# The processes run as this user; its home is the only place it may write (gunicorn's control socket).
RUN groupadd --system --gid 10001 closegap \
 && useradd --system --uid 10001 --gid closegap --create-home --home-dir /home/closegap --shell /usr/sbin/nologin \
    closegap \
 && install -d -o closegap -g closegap -m 750 /var/lib/closegap/private
# Private files (hubs' evidence archives): docker-compose.yml mounts one volume here in web and worker.

# Dependencies first, in a layer of their own, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The processes run from /app (manage.py, gunicorn and celery import the code from the working directory,
# beside templates/ and static/); installing the package too checks that it builds.
COPY . .
RUN pip install --no-deps . \
 && DJANGO_SECRET_KEY="build-time-dummy-only-used-by-collectstatic-never-at-runtime-0123456789" \
    DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/build-unused.sqlite3 \
    python manage.py collectstatic --noinput \
 && rm -rf build *.egg-info

USER closegap
EXPOSE 8000
# Worker count: gunicorn reads WEB_CONCURRENCY from the environment.
CMD ["gunicorn", "closegap.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
