# The final stage builds FROM an earlier stage and inherits its USER: not a finding.
FROM debian:bookworm-20250113-slim AS base
RUN useradd --uid 10001 app
USER 10001:10001

FROM base AS test
RUN true

FROM base
COPY app /app
HEALTHCHECK CMD ["/app/bin", "health"]
ENTRYPOINT ["/app/bin"]
