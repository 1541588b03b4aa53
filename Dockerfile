# keyflow in a container: Debian 12 with the build dependencies, keyflow
# built from this tree, every daemon and the CLI on PATH.  One image serves
# all the services of docker-compose.yml; each picks its daemon with
# `command:` and is configured by KEYFLOW_* variables.  The openssl
# command line and tests/certs.sh (as keyflow-certs) make kmsd's private CA
# and certificates (the `certs` command of the entrypoint).
FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends --no-upgrade \
      cmake ninja-build pkg-config gcc libc6-dev libssl-dev libpq-dev \
      libzmq3-dev libprotobuf-c-dev protobuf-c-compiler check \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . /src
RUN rm -rf build build-* .keyflow \
 && cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && ninja -C build \
 && install -d /out \
 && for b in commserve/commserved mediaagent/mediaagentd client/clientd \
        cli/keyflow kms/kmsd; do \
      if [ -x build/$b ]; then install -m 0755 build/$b /out/; fi; \
    done \
 && test -x /out/commserved -a -x /out/mediaagentd -a -x /out/clientd \
      -a -x /out/keyflow -a -x /out/kmsd

FROM debian:12
RUN apt-get update \
 && apt-get install -y --no-install-recommends --no-upgrade \
      libssl3 libpq5 libzmq5 libprotobuf-c1 ca-certificates openssl \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -m 0700 /var/lib/keyflow /var/lib/keyflow/commserve \
      /var/lib/keyflow/client /var/lib/keyflow/kms /var/lib/keyflow/certs \
 && install -d -m 0755 /var/lib/keyflow/ma /data /restore
COPY --from=build /out/ /usr/local/bin/
COPY tests/certs.sh /usr/local/bin/keyflow-certs
COPY docker/entrypoint.sh /usr/local/bin/keyflow-entrypoint
RUN chmod 0755 /usr/local/bin/keyflow-certs /usr/local/bin/keyflow-entrypoint
ENTRYPOINT ["/usr/local/bin/keyflow-entrypoint"]
CMD ["keyflow", "--help"]
