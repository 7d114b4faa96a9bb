# A static image of the stampsim CLI: a binary built without cgo, on an
# image with nothing else in it but CA certificates and a non-root user.
#
#   docker build -t stampsim .
#   docker run --rm stampsim sweep requests --size small --out /tmp/out
#
# VERSION sets what `stampsim version` and the results documents say.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/stampsim ./cmd/stampsim

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/stampsim /usr/local/bin/stampsim
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/stampsim"]
