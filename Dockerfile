# Keystead in a container: `docker build -t keystead .`, then see deploy/compose.yaml.
# The build stage runs the same `cargo build --release --locked` as bench/run.sh and the
# README; the final image is Debian slim with the stripped binary, CA certificates (SMTP
# over TLS) and nothing else.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# `keystead --version` names the commit: git reads it from the copied .git, or pass
# --build-arg KEYSTEAD_COMMIT=… when building from a tree without one.
ARG KEYSTEAD_COMMIT
RUN cargo build --release --locked && strip target/release/keystead

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin keystead \
    && mkdir -p /data && chown keystead:keystead /data && chmod 0700 /data
COPY --from=build /src/target/release/keystead /usr/local/bin/keystead
USER keystead
WORKDIR /data
VOLUME /data
ENV KEYSTEAD_DB=/data/keystead.db \
    KEYSTEAD_BIND=0.0.0.0:8080 \
    KEYSTEAD_TRUST_PROXY=false
EXPOSE 8080
# No curl in the image: bash's /dev/tcp asks /healthz, which answers 200 only when the
# database answers.
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/keystead"]
CMD ["serve"]
