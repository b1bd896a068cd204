// SPDX-License-Identifier: BSL-1.0
// One connection, as the rest of the server reaches it: the list of clients,
// the watchdog and shutdown may queue lines for it or stop it, always on its
// executor (a strand of its own when the server has several threads). Its
// session coroutine does the talking.
//
// Who owns a client: its record is shared, by its session and by the
// session group's list, until the session has ended, and by whatever is
// queued to run later on another executor, since the session may end first.
// That is the one shared ownership in the server: wherever a client is held,
// it is held as std::shared_ptr<client>. (The rest of the rule is in
// server_state.hpp.)
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coronet/awaitable.hpp"

namespace coronet {

using asio::ip::tcp;
using std::chrono::steady_clock;

using shared_line = std::shared_ptr<const std::string>;  // one line, sent to many clients

// A time that one executor owns and sets, and that others only look at. The
// one policy for every value the server reads across executors: it is read
// with a relaxed load, as a hint to decide whether to act, never as the
// ground for acting; what is then done is done on the owner's executor,
// which looks at the value again there (the watchdog, for one, dispatches
// "stop if still idle" to the client's executor).
class watched_time {
 public:
  void set(steady_clock::time_point t) noexcept {
    ticks_.store(t.time_since_epoch().count(), std::memory_order_relaxed);
  }
  void clear() noexcept { ticks_.store(0, std::memory_order_relaxed); }
  [[nodiscard]] bool is_set() const noexcept { return ticks_.load(std::memory_order_relaxed) != 0; }
  [[nodiscard]] steady_clock::time_point get() const noexcept {
    return steady_clock::time_point{steady_clock::duration{ticks_.load(std::memory_order_relaxed)}};
  }

 private:
  std::atomic<steady_clock::rep> ticks_{0};  // 0: not set
};

// Why a session ended, for the console's "ADDR disconnected (why)".
enum class end_reason : std::uint8_t {
  none,           // not ended yet
  peer_closed,    // the client closed the connection
  quit,           // the client sent q
  operator_quit,  // the operator's q was sent to it
  lost,           // a reset, or another network error
  line_too_long,
  idle_timeout,
  not_reading,  // dropped: its queue stayed full
  shutdown,
};

constexpr std::string_view to_string(end_reason why) noexcept {
  switch (why) {
    case end_reason::none:
    case end_reason::peer_closed:
      return "closed by the peer";
    case end_reason::quit:
      return "q";
    case end_reason::operator_quit:
      return "the operator's q";
    case end_reason::lost:
      return "connection lost";
    case end_reason::line_too_long:
      return "line too long";
    case end_reason::idle_timeout:
      return "idle timeout";
    case end_reason::not_reading:
      return "dropped as not reading";
    case end_reason::shutdown:
      return "server shutting down";
  }
  return "?";
}

// Chat and room: the lines waiting for a client's writer, and how it is
// woken. Echo answers from its own loop and has none, so an idle echo
// connection stays small.
struct outgoing_lines {
  explicit outgoing_lines(const asio::any_io_executor& executor) : wake(executor) {}

  std::vector<shared_line> lines;
  std::size_t bytes = 0;
  bool close_when_sent = false;  // the operator typed 'q'
  bool full = false;             // over the limit (see backpressure.hpp)
  watched_time full_since;       // since when; the watchdog looks at it
  asio::steady_timer wake;       // the writer waits on it; cancel() wakes it
};

struct client {
  client(tcp::socket s, std::string peer, bool with_writer)
      : socket(std::move(s)),
        name(std::move(peer)),
        outgoing(with_writer ? std::make_unique<outgoing_lines>(socket.get_executor()) : nullptr) {}

  tcp::socket socket;      // its executor is the client's
  const std::string name;  // "127.0.0.1:54321"
  bool stopped = false;
  end_reason why = end_reason::none;  // set by whatever ends the session first
  watched_time deadline;  // a complete line's arrival plus the idle timeout; the watchdog looks at it
  const std::unique_ptr<outgoing_lines> outgoing;  // chat and room
  std::size_t place = 0;                           // its index in the session group's list
};

// The server's last line to a peer: sent only if the kernel takes it now
// (the socket is non-blocking), so a peer that stopped reading is never
// waited for.
inline void send_last_line(tcp::socket& socket, std::string_view line) {
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(line), asio::buffer("\n", 1)};
  error_code ignored;
  asio::write(socket, buffers, ignored);
}

// The session is ending for `why`, unless something else ended it first.
inline void note_end(client& c, end_reason why) {
  if (c.why == end_reason::none) c.why = why;
}

// Ends a connection from the server's side; runs on the client's executor.
// Closing the socket completes every operation the session waits in (with
// operation_aborted) and fails any it starts later, so the session ends
// promptly: this is how the server cancels a session.
inline void stop(client& c, end_reason why, std::string_view last_line = {}) {
  if (c.stopped) return;
  note_end(c, why);
  c.stopped = true;
  if (!last_line.empty()) send_last_line(c.socket, last_line);
  error_code ignored;
  c.socket.shutdown(tcp::socket::shutdown_both, ignored);
  c.socket.close(ignored);
  if (c.outgoing) c.outgoing->wake.cancel();
}

// A complete line has arrived: the client is not idle until idle_timeout
// from now. Runs on the client's executor.
inline void push_deadline(client& c, std::chrono::milliseconds idle_timeout) {
  if (idle_timeout.count() != 0) c.deadline.set(steady_clock::now() + idle_timeout);
}

}  // namespace coronet
