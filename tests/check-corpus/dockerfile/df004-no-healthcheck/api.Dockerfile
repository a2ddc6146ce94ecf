FROM rust:1.84.0-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /src/target/release/server /app/server
HEALTHCHECK CMD ["/app/server", "healthcheck"]
USER 65532:65532

# Builds on the runtime stage, whose HEALTHCHECK it switches off.
FROM runtime
healthcheck none
ENTRYPOINT ["/app/server"]
