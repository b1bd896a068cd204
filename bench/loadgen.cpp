// SPDX-License-Identifier: BSL-1.0
// loadgen: the load generator of coronet's benchmark kit, and itself a lesson
// in Asio coroutines: every client connection (or UDP flow) is one small
// coroutine, a plain loop of "send, read the answer back, check every byte",
// and thousands of them share one thread (io_context(1)) without a lock.
//
//   tcp  N connections; each keeps --depth lines of --line-size bytes in
//        flight: writes the batch, reads until all of it is echoed, compares.
//   udp  N flows; each a socket that sends one datagram and waits for its echo.
//   idle opens N connections one after the other and keeps them idle; with
//        --server-pid it reads the server's VmRSS before and after (Linux).
//
// Try it from a second terminal while an echo server listens on port 5000:
//   build/release/bin/loadgen --port 5000 --connections 100 --line-size 64 --depth 1
//
// It prints a human summary and one machine-readable line starting "result ".
// Latency is per batch: from writing the first line of a batch until the last
// echoed byte of it is back (with --depth 1, one request's round trip).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include <unistd.h>

#include "coronet/awaitable.hpp"
#include "coronet/command_line.hpp"

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using asio::ip::udp;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

std::chrono::milliseconds from_seconds(double seconds) {
  return std::chrono::milliseconds(static_cast<long>(seconds * 1000));
}

struct options {
  std::string mode = "tcp";
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::size_t connections = 100;
  std::size_t line_size = 64;  // bytes of one line, its LF included
  std::size_t depth = 1;       // lines in flight per connection
  double warmup = 1.0;         // seconds before measuring starts
  double duration = 3.0;       // seconds measured
  double hold = 0.0;           // idle mode: seconds to keep the connections open at the end
  int server_pid = 0;          // whose CPU use (and, idle mode, memory) to read
  std::string label;           // copied into the result line
};

// Everything the clients report. They all run on one thread, so plain
// counters suffice: no atomics, no locks.
struct recorder {
  bool measuring = false;  // batches that complete now are counted
  bool stopping = false;   // clients finish their batch in flight, then close
  clock_type::time_point started, ended;
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;
  std::uint64_t lost = 0;  // UDP datagrams not answered in time
  std::size_t running = 0;
  std::vector<std::int64_t> latency_ns;
  std::string first_error;
  double load_cpu = 0;  // CPU seconds used while measuring
  double server_cpu = 0;

  void fail(std::string what) {
    ++errors;
    if (first_error.empty()) first_error = std::move(what);
  }
  void complete(clock_type::time_point sent_at, std::size_t lines) {
    if (!measuring) return;
    requests += lines;
    latency_ns.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - sent_at).count());
  }
};

// Each line starts with a stamp of 16 hex digits: connection (bits 44-63),
// batch (12-43) and slot in the batch (0-11), so an echo that is stale,
// reordered or from another connection does not compare equal.
void stamp_line(char* line, std::size_t line_size, std::uint64_t stamp) {
  const std::size_t digits = std::min<std::size_t>(16, line_size - 1);
  for (std::size_t i = digits; i-- > 0; stamp >>= 4) line[i] = "0123456789abcdef"[stamp & 0xf];
}

std::string make_lines(std::size_t line_size, std::size_t count) {
  std::string lines(line_size * count, '\n');
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i % line_size != line_size - 1) lines[i] = static_cast<char>('a' + (i % 26));
  }
  return lines;
}

void stamp_batch(std::string& lines, std::size_t line_size, std::size_t client, std::uint64_t batch) {
  for (std::size_t offset = 0, slot = 0; offset < lines.size(); offset += line_size, ++slot) {
    stamp_line(&lines[offset], line_size,
               (std::uint64_t{client} << 44) | ((batch & 0xffffffff) << 12) | slot);
  }
}

// Big batches are written and read at the same time: written first, 120 KB
// could fill both socket buffers while the server waits for us to read.
constexpr std::size_t concurrent_io_threshold = std::size_t{32} * 1024;

// The coroutines below take what run_load() and run_idle() own (the options,
// the recorder, a flow, a socket) by pointer, not by reference: the owner
// outlives them, as io.run() returns only once they have ended, and a pointer
// parameter says that the coroutine holds on to it across its suspensions.

awaitable<boost::system::error_code> write_all(tcp::socket* socket, const std::string* bytes) {
  auto [ec, n] = co_await asio::async_write(*socket, asio::buffer(*bytes), coronet::use_nothrow_awaitable);
  co_return ec;
}

awaitable<boost::system::error_code> read_all(tcp::socket* socket, std::string* bytes) {
  auto [ec, n] = co_await asio::async_read(*socket, asio::buffer(*bytes), coronet::use_nothrow_awaitable);
  co_return ec;
}

awaitable<void> run_tcp_client(tcp::endpoint server, const options* opt, std::size_t client, recorder* rec) {
  tcp::socket socket(co_await asio::this_coro::executor);
  if (auto [ec] = co_await socket.async_connect(server, coronet::use_nothrow_awaitable); ec) {
    rec->fail("connect: " + ec.message());
    co_return;
  }
  socket.set_option(tcp::no_delay(true));

  std::string sent = make_lines(opt->line_size, opt->depth);
  std::string received(sent.size(), '\0');
  for (std::uint64_t batch = 0; !rec->stopping; ++batch) {
    stamp_batch(sent, opt->line_size, client, batch);
    const auto sent_at = clock_type::now();
    boost::system::error_code write_error;
    boost::system::error_code read_error;
    if (sent.size() < concurrent_io_threshold) {
      // Suspends until the batch is in the kernel, then until all of it is back.
      auto [written, n_written] =
          co_await asio::async_write(socket, asio::buffer(sent), coronet::use_nothrow_awaitable);
      write_error = written;
      if (!write_error) {
        auto [read, n_read] =
            co_await asio::async_read(socket, asio::buffer(received), coronet::use_nothrow_awaitable);
        read_error = read;
      }
    } else {
      auto [written, read] = co_await (write_all(&socket, &sent) && read_all(&socket, &received));
      write_error = written;
      read_error = read;
    }
    if (write_error || read_error) {
      rec->fail(fmt::format("connection {}: {}", client, (write_error ? write_error : read_error).message()));
      co_return;
    }
    if (received != sent) {
      rec->fail(fmt::format("connection {}: echoed bytes differ from the bytes sent", client));
      co_return;
    }
    rec->complete(sent_at, opt->depth);
  }
}

// A UDP flow lives in main's vector rather than in its coroutine, so the
// watchdog below can cancel a receive whose datagram was lost.
struct udp_flow {
  explicit udp_flow(asio::io_context& io) : socket(io) {}
  udp::socket socket;
  std::uint64_t answered = 0;
  std::uint64_t answered_at_last_check = 0;
  bool waiting = false;
};

awaitable<void> run_udp_flow(udp::endpoint server, const options* opt, std::size_t client, udp_flow* flow,
                             recorder* rec) {
  flow->socket.open(server.protocol());
  flow->socket.connect(server);
  std::string sent = make_lines(opt->line_size, 1);
  std::string received(65536, '\0');
  for (std::uint64_t datagram = 0; !rec->stopping; ++datagram) {
    stamp_batch(sent, opt->line_size, client, datagram);
    const auto sent_at = clock_type::now();
    if (auto [ec, n] = co_await flow->socket.async_send(asio::buffer(sent), coronet::use_nothrow_awaitable);
        ec) {
      rec->fail(fmt::format("flow {}: send: {}", client, ec.message()));
      co_return;
    }
    // Suspends until a datagram arrives or the watchdog cancels the wait. A
    // late echo of an earlier, given-up datagram is skipped.
    flow->waiting = true;
    for (;;) {
      auto [ec, n] =
          co_await flow->socket.async_receive(asio::buffer(received), coronet::use_nothrow_awaitable);
      if (ec == asio::error::operation_aborted) {
        ++rec->lost;
        break;
      }
      if (ec) {
        flow->waiting = false;
        rec->fail(fmt::format("flow {}: receive: {}", client, ec.message()));
        co_return;
      }
      if (std::string_view(received.data(), n) == sent) {
        ++flow->answered;
        rec->complete(sent_at, 1);
        break;
      }
      const std::size_t stamp = std::min<std::size_t>(16, sent.size() - 1);
      if (n != sent.size() || received.compare(stamp, n - stamp, sent, stamp) != 0) {
        rec->fail(fmt::format("flow {}: echoed datagram differs from the one sent", client));
      }
    }
    flow->waiting = false;
  }
}

// Loopback rarely drops a datagram, but one lost datagram must not stall a
// flow for the rest of the run: a flow that got no answer for a whole period
// has its receive cancelled, and sends the next datagram.
awaitable<void> watch_udp_flows(std::vector<udp_flow>* flows, const recorder* rec) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (rec->running > 0) {  // also after the end: a datagram lost then would stall the last receive
    timer.expires_after(250ms);
    co_await timer.async_wait(asio::use_awaitable);
    for (auto& flow : *flows) {
      if (flow.waiting && flow.answered == flow.answered_at_last_check) flow.socket.cancel();
      flow.answered_at_last_check = flow.answered;
    }
  }
}

// CPU seconds (user + system) a process has used so far, from /proc/PID/stat
// (Linux): whether the server or the load generator was the one at 100 %.
double cpu_seconds(const std::string& pid) {
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string text;
  std::getline(stat, text);
  const auto after_name = text.rfind(')');
  if (after_name == std::string::npos) return 0;
  std::istringstream fields(text.substr(after_name + 2));
  std::string skipped;
  for (int field = 3; field < 14; ++field) fields >> skipped;  // state .. cmajflt
  double user_ticks = 0;
  double system_ticks = 0;
  fields >> user_ticks >> system_ticks;
  return (user_ticks + system_ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Warm-up, measurement, then a grace period for the batches in flight. A
// server that stopped answering leaves clients suspended forever: they are
// counted as stalled and the io_context is stopped under them.
awaitable<void> run_phases(asio::io_context* io, const options* opt, recorder* rec, std::size_t* stalled) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(from_seconds(opt->warmup));
  co_await timer.async_wait(asio::use_awaitable);
  const std::string server = std::to_string(opt->server_pid);
  rec->measuring = true;
  rec->started = clock_type::now();
  rec->load_cpu = -cpu_seconds("self");
  if (opt->server_pid > 0) rec->server_cpu = -cpu_seconds(server);
  timer.expires_after(from_seconds(opt->duration));
  co_await timer.async_wait(asio::use_awaitable);
  rec->measuring = false;
  rec->ended = clock_type::now();
  rec->load_cpu += cpu_seconds("self");
  if (opt->server_pid > 0) rec->server_cpu += cpu_seconds(server);
  rec->stopping = true;

  const auto give_up_at = clock_type::now() + 3s;
  while (rec->running > 0 && clock_type::now() < give_up_at) {
    timer.expires_after(10ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
  if (rec->running > 0) {
    *stalled = rec->running;
    rec->fail(fmt::format("{} clients still waiting for an echo 3 s after the end", *stalled));
    io->stop();
  }
}

double percentile_us(std::vector<std::int64_t>& samples, double fraction) {
  if (samples.empty()) return 0;
  const auto index =
      std::min(samples.size() - 1, static_cast<std::size_t>(fraction * static_cast<double>(samples.size())));
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(index), samples.end());
  return static_cast<double>(samples[index]) / 1000.0;
}

int run_load(const options& opt) {
  asio::io_context io(1);
  const auto address = asio::ip::make_address(opt.host);
  recorder rec;
  std::size_t stalled = 0;
  std::exception_ptr failure;
  auto report_exception = [&](const std::exception_ptr& e) {
    if (e && !failure) failure = e;
  };
  auto client_done = [&](const std::exception_ptr& e) {
    --rec.running;
    report_exception(e);
  };

  std::vector<udp_flow> flows;
  rec.running = opt.connections;
  if (opt.mode == "tcp") {
    for (std::size_t i = 0; i < opt.connections; ++i) {
      asio::co_spawn(io, run_tcp_client(tcp::endpoint(address, opt.port), &opt, i, &rec), client_done);
    }
  } else {
    flows.reserve(opt.connections);  // the flows never move: coroutines hold pointers to them
    for (std::size_t i = 0; i < opt.connections; ++i) {
      auto& flow = flows.emplace_back(io);
      asio::co_spawn(io, run_udp_flow(udp::endpoint(address, opt.port), &opt, i, &flow, &rec), client_done);
    }
    asio::co_spawn(io, watch_udp_flows(&flows, &rec), report_exception);
  }
  asio::co_spawn(io, run_phases(&io, &opt, &rec, &stalled), report_exception);
  io.run();
  if (failure) std::rethrow_exception(failure);

  const double seconds = std::chrono::duration<double>(rec.ended - rec.started).count();
  const double rps = seconds > 0 ? static_cast<double>(rec.requests) / seconds : 0;
  const double p50 = percentile_us(rec.latency_ns, 0.50);
  const double p99 = percentile_us(rec.latency_ns, 0.99);
  const double load_cpu = seconds > 0 ? rec.load_cpu / seconds : 0;
  const double server_cpu = seconds > 0 ? rec.server_cpu / seconds : 0;
  fmt::print(
      "{} {}:{} {} x {} B lines, depth {}: {:.0f} requests/s, p50 {:.1f} us, p99 {:.1f} us, {} errors{}\n",
      opt.mode, opt.host, opt.port, opt.connections, opt.line_size, opt.depth, rps, p50, p99, rec.errors,
      opt.mode == "udp" ? fmt::format(", {} lost", rec.lost) : std::string());
  fmt::print("CPU while measuring: load generator {:.0f} %{}\n", 100 * load_cpu,
             opt.server_pid > 0 ? fmt::format(", server {:.0f} %", 100 * server_cpu) : std::string());
  if (!rec.first_error.empty()) fmt::print("first error: {}\n", rec.first_error);
  fmt::print(
      "result mode={} label={} connections={} line_size={} depth={} seconds={:.3f} requests={} rps={:.0f} "
      "p50_us={:.1f} p99_us={:.1f} errors={} lost={} stalled={} load_cpu={:.2f} server_cpu={:.2f}\n",
      opt.mode, opt.label.empty() ? "-" : opt.label, opt.connections, opt.line_size, opt.depth, seconds,
      rec.requests, rps, p50, p99, rec.errors, rec.lost, stalled, load_cpu, server_cpu);
  return rec.errors == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------
// Idle mode: what an open, quiet connection costs the server.
// ---------------------------------------------------------------------------

// The server's resident memory in KiB, from /proc/PID/status (Linux only).
long read_rss_kib(int pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  }
  return -1;
}

std::size_t count_open_files(int pid) {
  std::error_code ec;
  std::size_t count = 0;
  for (std::filesystem::directory_iterator it(fmt::format("/proc/{}/fd", pid), ec), end; !ec && it != end;
       it.increment(ec)) {
    ++count;
  }
  return count;
}

struct idle_result {
  std::size_t connected = 0, echoed = 0;
  long rss_before = -1, rss_connected = -1, rss_echoed = -1;
};

awaitable<void> pause_for(std::chrono::milliseconds how_long) {
  asio::steady_timer timer(co_await asio::this_coro::executor, how_long);
  co_await timer.async_wait(asio::use_awaitable);
}

// One coroutine, one connection after the other: a burst of thousands of
// connects would overflow the server's accept backlog and measure SYN retries.
awaitable<void> measure_idle(tcp::endpoint server, const options* opt, idle_result* result) {
  auto executor = co_await asio::this_coro::executor;
  const bool watching = opt->server_pid > 0;
  const std::size_t files_before = watching ? count_open_files(opt->server_pid) : 0;
  if (watching) result->rss_before = read_rss_kib(opt->server_pid);

  std::vector<tcp::socket> sockets;
  sockets.reserve(opt->connections);
  for (std::size_t i = 0; i < opt->connections; ++i) {
    tcp::socket socket(executor);
    if (auto [ec] = co_await socket.async_connect(server, coronet::use_nothrow_awaitable); ec) {
      fmt::print("connect {} failed: {}\n", i, ec.message());
      break;
    }
    socket.set_option(tcp::no_delay(true));
    sockets.push_back(std::move(socket));
  }
  result->connected = sockets.size();

  if (watching) {
    // Connected is not yet accepted: wait (up to 10 s) until the server holds
    // a descriptor for every connection, then let it settle into its read.
    for (int i = 0; i < 1000 && count_open_files(opt->server_pid) < files_before + sockets.size(); ++i) {
      co_await pause_for(10ms);
    }
    co_await pause_for(300ms);
    result->rss_connected = read_rss_kib(opt->server_pid);
  }

  // Every connection is served: one line out on each, then each echo checked.
  std::string line = make_lines(opt->line_size, 1);
  std::string received(line.size(), '\0');
  for (auto& socket : sockets)
    co_await asio::async_write(socket, asio::buffer(line), coronet::use_nothrow_awaitable);
  for (auto& socket : sockets) {
    auto [ec, n] = co_await asio::async_read(socket, asio::buffer(received), coronet::use_nothrow_awaitable);
    if (!ec && received == line) ++result->echoed;
  }
  if (watching) {
    co_await pause_for(300ms);
    result->rss_echoed = read_rss_kib(opt->server_pid);
  }
  if (opt->hold > 0) co_await pause_for(from_seconds(opt->hold));
}

int run_idle(const options& opt) {
  asio::io_context io(1);
  idle_result result;
  std::exception_ptr failure;
  const tcp::endpoint server(asio::ip::make_address(opt.host), opt.port);
  // The whole measurement is bounded: a server that stops accepting or
  // answering cancels it (the || cancels the slower branch) after 120 s.
  asio::co_spawn(io, measure_idle(server, &opt, &result) || pause_for(120s),
                 [&](const std::exception_ptr& e, auto) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);

  auto per_connection = [&](long after) {
    if (result.connected == 0 || after < 0 || result.rss_before < 0) return 0.0;
    return static_cast<double>(after - result.rss_before) / static_cast<double>(result.connected);
  };
  fmt::print("idle {}:{}: {} of {} connected, {} echoed", opt.host, opt.port, result.connected,
             opt.connections, result.echoed);
  if (opt.server_pid > 0) {
    fmt::print(
        "; server VmRSS {} KiB -> {} KiB connected ({:.2f} KiB each) -> {} KiB after one echo each "
        "({:.2f} KiB each)",
        result.rss_before, result.rss_connected, per_connection(result.rss_connected), result.rss_echoed,
        per_connection(result.rss_echoed));
  }
  fmt::print(
      "\nresult mode=idle label={} connections={} connected={} echoed={} rss_before_kib={} "
      "rss_connected_kib={} "
      "rss_echoed_kib={} kib_per_idle_conn={:.2f} kib_per_conn_after_echo={:.2f}\n",
      opt.label.empty() ? "-" : opt.label, opt.connections, result.connected, result.echoed,
      result.rss_before, result.rss_connected, result.rss_echoed, per_connection(result.rss_connected),
      per_connection(result.rss_echoed));
  return result.echoed == opt.connections ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) try {
  options opt;
  CLI::App app{"coronet's load generator: echo round trips over TCP or UDP, checked byte for byte"};
  coronet::add_common_flags(app, "loadgen");
  app.add_option("--mode", opt.mode, "tcp, udp or idle")->check(CLI::IsMember({"tcp", "udp", "idle"}));
  app.add_option("--host", opt.host, "server address (an IP address)")->capture_default_str();
  app.add_option("-p,--port", opt.port, "server port")->required();
  app.add_option("-c,--connections", opt.connections, "TCP connections or UDP flows")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("-l,--line-size", opt.line_size, "bytes per line or datagram, LF included")
      ->capture_default_str()
      ->check(CLI::Range(2, 1 << 20));
  app.add_option("-d,--depth", opt.depth, "lines in flight per connection (TCP)")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--warmup", opt.warmup, "seconds of load before measuring")->capture_default_str();
  app.add_option("--duration", opt.duration, "seconds measured")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--hold", opt.hold, "idle mode: seconds to keep the connections open")
      ->capture_default_str();
  app.add_option("--server-pid", opt.server_pid,
                 "the server's process id: its CPU use while measuring; idle mode: its VmRSS (Linux /proc)");
  app.add_option("--label", opt.label, "a word copied into the result line");
  CLI11_PARSE(app, argc, argv);
  if (opt.mode == "udp" && opt.line_size > 65507) {
    fmt::print(stderr, "loadgen: a UDP datagram holds at most 65507 bytes\n");
    return 2;
  }
  return opt.mode == "idle" ? run_idle(opt) : run_load(opt);
} catch (const std::exception& e) {
  // Also what CLI11 or the io_context throws before a run starts.
  fmt::print(stderr, "loadgen: {}\n", e.what());
  return 1;
}
