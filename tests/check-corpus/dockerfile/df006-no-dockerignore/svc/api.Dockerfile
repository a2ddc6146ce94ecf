FROM golang:1.24.0-bookworm AS build
WORKDIR /src
COPY . .
RUN go build -o /out/server .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/server /server
USER 65532:65532
HEALTHCHECK CMD ["/server", "-healthcheck"]
ENTRYPOINT ["/server"]
