# Test-only stand-in for postgres:17-alpine: Debian's postgresql-15 with an entrypoint that
# honours the same POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB and data directory.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
# No cluster at install time: the entrypoint creates one in the volume on first start.
RUN mkdir -p /etc/postgresql-common/createcluster.d \
    && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/no-main.conf \
    && apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o postgres -g postgres -m 2777 /var/run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
CMD ["postgres"]
