# foodpipe in a container: built on Debian 12 with the release preset, run on debian:12-slim
# with only the shared libraries the binary links. compose/docker-compose.yml runs it under
# the profile "app"; by hand:
#   docker build -t foodpipe .
#   docker run --rm --network host foodpipe doctor
# Tested without a Docker engine by test/package/dockerfile_test (stages, packages, COPY
# sources, the libraries the binary needs).

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake g++ ninja-build pkg-config help2man \
      librdkafka-dev libpq-dev libssl-dev rapidjson-dev \
      libboost-program-options-dev libboost-log-dev libboost-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt CMakePresets.json LICENSE README.md ./
COPY cmake cmake
COPY lib lib
COPY app app
COPY sql sql
COPY docs docs
COPY packaging packaging
# The tool only: no GoogleTest or Google Benchmark in this image.
RUN cmake --preset release -DBUILD_TESTING=OFF \
 && cmake --build --preset release \
 && cmake --install build --prefix /opt/foodpipe

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librdkafka1 libpq5 libboost-log1.74.0 libboost-program-options1.74.0 libboost-thread1.74.0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin foodpipe
COPY --from=build /opt/foodpipe/bin/foodpipe /usr/local/bin/foodpipe
COPY --from=build /opt/foodpipe/share/doc/foodpipe /usr/local/share/doc/foodpipe
USER foodpipe
ENTRYPOINT ["foodpipe"]
CMD ["help"]
