# Dockerfile: the logwarden image (build on Debian 12, run on debian:12-slim as a non-root user).
#   docker build -t logwarden:latest .        # from the repository's root
# tests/e2e/test_container.py (e2e.container) checks this file without a container engine: the
# lint rules hadolint would apply, the install tree its COPY lines name, and a runtime package
# for every library the binary links or opens. Keep the two stages' commands in the forms it reads.
FROM debian:12 AS build
# pipefail: the package list goes through sed into apt-get.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY .ci/packages/build.txt /tmp/build.txt
RUN apt-get update \
    && sed -e 's/#.*//' /tmp/build.txt | xargs apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The project's own install target (the same one `make install` runs) into a staging root.
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DCMAKE_INSTALL_PREFIX=/usr/local \
    && cmake --build /build -j"$(nproc)" --target logwarden \
    && DESTDIR=/staging cmake --install /build

FROM debian:12-slim
# What it links (libuv, SQLite, libyaml, jansson, PCRE2) and what it opens with dlopen() when a
# config needs it (libcurl for network sinks, libmicrohttpd for http:, librdkafka for kafka
# inputs), the zones for timezone:, CAs for HTTPS sinks and TLS.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libuv1 libsqlite3-0 libyaml-0-2 libjansson4 \
       libpcre2-8-0 libcurl4 libmicrohttpd12 librdkafka1 libssl3 tzdata ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /staging/usr/local/bin/logwarden /usr/local/bin/logwarden
COPY rules.d /etc/logwarden/rules.d
COPY examples/container/logwarden.yaml /etc/logwarden/logwarden.yaml
# A fixed uid and gid: the state volume keeps them across image rebuilds, and Kubernetes'
# runAsNonRoot can check a numeric USER.
RUN groupadd --system --gid 10001 logwarden \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/logwarden --create-home logwarden
USER 10001:10001
WORKDIR /var/lib/logwarden
VOLUME /var/lib/logwarden
# SQLite's temporary files (large sorts), if it ever needs one, on the volume: the root file
# system may be read-only (docker run --read-only, Kubernetes' readOnlyRootFilesystem).
ENV SQLITE_TMPDIR=/var/lib/logwarden
EXPOSE 9880
# GET /health over bash's /dev/tcp: the slim image has bash and no curl or wget, and adding one
# only for this would add its libraries to every image. 200 is healthy or degraded, 503 is not
# (docs/operations.md, "Health"). The port is the default config's http.listen.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9880 && printf 'GET /health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r v code _ <&3 && [ \"$code\" = 200 ]"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["logwarden"]
CMD ["run", "-c", "/etc/logwarden/logwarden.yaml"]
