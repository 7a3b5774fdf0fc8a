# Promise Desk: one image for every process. docker-compose.yml picks the command
# (migrate, gunicorn, celery worker, celery beat); the default is the web server.
FROM python:3.11-slim

# ENVIRONMENT=production by default, so a container started without configuration refuses
# to run (no SECRET_KEY, no ALLOWED_HOSTS) instead of running with DEBUG on.
# DATA_DIR holds the static files collected below; runtime state goes to the /data volume.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ENVIRONMENT=production \
    DATA_DIR=/app/var

WORKDIR /app

# Unprivileged runtime user. Its home must be writable (gunicorn puts its control socket in
# ~/.gunicorn). /data is owned by it, so a fresh named volume mounted there inherits that.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app \
    && mkdir -p /data \
    && chown app:app /data

# Dependencies first: a code change reuses this layer.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# Static files are collected into the image (DATA_DIR/staticfiles, owned by root, read-only to
# the app) so they always match the code. Settings validation needs a production-grade
# SECRET_KEY, ALLOWED_HOSTS and SITE_URL: throwaway values that live only for this command.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    ENVIRONMENT=production \
    ALLOWED_HOSTS=build \
    SITE_URL=https://build.invalid \
    python manage.py collectstatic --noinput

USER app

EXPOSE 8000

# No HEALTHCHECK here: worker and beat run this image too; docker-compose.yml gives each
# service its own.
CMD ["gunicorn", "helpdesk.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
