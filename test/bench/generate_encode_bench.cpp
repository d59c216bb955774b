// The per-order cost of the producer's and the consumer's domain work:
//   generate_encode     what `produce` does before handing bytes to librdkafka
//                       (OrderGenerator::next_encoded)
//   generate_order_then_encode, generate_only, encode_only
//                       the same orders through an Order (next() + encode())
//   decode + validate   what the consumer does with every message
// Target: generate + encode under 2 us per order on one core (Release).

#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "domain/generator.hpp"
#include "domain/order_json.hpp"

namespace {

using foodpipe::domain::Order;
using foodpipe::domain::OrderGenerator;
using foodpipe::domain::Rejection;
using foodpipe::domain::Timestamp;

Timestamp fixed_clock() {
  return Timestamp(std::chrono::milliseconds(1'767'323'045'678));
}

void generate_encode(benchmark::State& state) {
  OrderGenerator generator(42, "benchrun", fixed_clock);
  std::string json;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    json.clear();
    benchmark::DoNotOptimize(generator.next_encoded(json).data());
    bytes += static_cast<std::int64_t>(json.size());
    benchmark::DoNotOptimize(json.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK(generate_encode);

void generate_order_then_encode(benchmark::State& state) {
  OrderGenerator generator(42, "benchrun", fixed_clock);
  Order order;
  std::string json;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    generator.next(order);
    json.clear();
    foodpipe::domain::encode(order, json);
    bytes += static_cast<std::int64_t>(json.size());
    benchmark::DoNotOptimize(json.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK(generate_order_then_encode);

void generate_only(benchmark::State& state) {
  OrderGenerator generator(42, "benchrun", fixed_clock);
  Order order;
  for (auto _ : state) {
    generator.next(order);
    benchmark::DoNotOptimize(order.order_id.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(generate_only);

void encode_only(benchmark::State& state) {
  OrderGenerator generator(42, "benchrun", fixed_clock);
  std::vector<Order> orders(1024);
  for (auto& order : orders) {
    generator.next(order);
  }
  std::string json;
  std::size_t next = 0;
  for (auto _ : state) {
    json.clear();
    foodpipe::domain::encode(orders[next++ % orders.size()], json);
    benchmark::DoNotOptimize(json.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(encode_only);

// Decodes a fixed set of generated messages round-robin, as a consumer would.
void decode_validate(benchmark::State& state) {
  OrderGenerator generator(42, "benchrun", fixed_clock);
  std::vector<std::string> messages(1024);
  for (auto& message : messages) {
    message = foodpipe::domain::encode(generator.next());
  }
  Order order;
  Rejection rejection;
  std::size_t next = 0;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    const std::string& message = messages[next++ % messages.size()];
    const bool ok = foodpipe::domain::decode_into(message, order, rejection);
    benchmark::DoNotOptimize(ok);
    if (!ok) {
      state.SkipWithError(rejection.detail.c_str());
      break;
    }
    bytes += static_cast<std::int64_t>(message.size());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK(decode_validate);

// The convenience form that returns a fresh Order each time.
void decode_fresh(benchmark::State& state) {
  OrderGenerator generator(42, "benchrun", fixed_clock);
  const std::string message = foodpipe::domain::encode(generator.next());
  for (auto _ : state) {
    auto result = foodpipe::domain::decode(message);
    benchmark::DoNotOptimize(result.ok());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(decode_fresh);

} // namespace

BENCHMARK_MAIN();
