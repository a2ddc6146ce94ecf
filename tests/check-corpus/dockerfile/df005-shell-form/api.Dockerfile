FROM golang:1.24.0-bookworm AS build
RUN go build -o /out/api .

FROM debian:bookworm-20250113-slim
COPY --from=build /out/api /usr/local/bin/api
USER 10001
HEALTHCHECK CMD ["api", "health"]
# Overridden below: only the last ENTRYPOINT is the image's.
ENTRYPOINT api --old
entrypoint api --listen :8080
