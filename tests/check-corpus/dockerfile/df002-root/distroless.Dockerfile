# The distroless :nonroot tags run as uid 65532 already: not a finding.
FROM golang:1.24.0-bookworm AS build
RUN go build -o /out/server .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/server /server
HEALTHCHECK CMD ["/server", "-healthcheck"]
ENTRYPOINT ["/server"]
