# One image for web, beat and workers. Build: docker build -t asirikuy-trader .
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends gcc make libc6-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt requirements-nodeps.txt ./
RUN pip install --no-cache-dir -r requirements.txt && pip install --no-cache-dir --no-deps -r requirements-nodeps.txt
COPY . .
RUN make -C framework/c clean && make -C framework/c \
    && ASIRIKUY_MODE=embedded ASIRIKUY_VAR_DIR=/tmp/build-var python manage.py collectstatic --noinput -v0 \
    && rm -rf /tmp/build-var
RUN useradd --create-home asirikuy && mkdir -p /app/var/metrics && chown -R asirikuy /app
USER asirikuy
ENV ASIRIKUY_MODE=production PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["gunicorn", "asirikuy_site.wsgi", "-b", "0.0.0.0:8000", "-w", "3"]
