# The archiver service. Build: docker build -t rra .   Run: docker run -p 8080:8080 -v /path/config.yaml:/etc/rra/config.yaml rra
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 RRA_CONFIG=/etc/rra/config.yaml \
    RRA_SERVICE__HOST=0.0.0.0
WORKDIR /srv/rra
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
RUN pip install --no-cache-dir -e . && useradd --system --home /srv/rra rra
USER rra
EXPOSE 8080
STOPSIGNAL SIGTERM
CMD ["rra", "serve"]
