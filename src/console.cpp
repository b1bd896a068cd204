#include "coronet/console.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <optional>
#include <thread>

#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

namespace coronet {

namespace {
using line_channel = asio::experimental::concurrent_channel<void(error_code, std::string)>;
constexpr std::size_t channel_capacity = 256;  // lines typed ahead of the program
}  // namespace

// Shared by the program and the stdin thread. The program may exit while the
// thread is still blocked in a read: the channel is then destroyed with the
// program's side (it must not outlive the io_context), and the thread, finding
// it gone, drops what it reads and ends.
struct console_input::shared_state {
  shared_state(asio::any_io_executor executor, std::size_t max)
      : channel(std::in_place, std::move(executor), channel_capacity), max_line(max) {}

  // Waits for room in the channel, then sends; false once the program has gone.
  bool deliver(error_code ec, const std::string& line) {
    std::unique_lock lock(mutex);
    room.wait(lock, [&] { return !channel || channel->try_send(ec, line); });
    return channel.has_value();
  }

  std::mutex mutex;
  std::condition_variable room;
  std::optional<line_channel> channel;  // guarded by mutex once the thread runs
  const std::size_t max_line;
};

console_input::console_input(asio::any_io_executor executor, std::size_t max_line)
    : state_(std::make_shared<shared_state>(std::move(executor), max_line)) {}

console_input::~console_input() {
  std::scoped_lock lock(state_->mutex);
  state_->channel.reset();
  state_->room.notify_all();
}

std::size_t console_input::max_line() const noexcept {
  return state_->max_line;
}

asio::awaitable<std::tuple<error_code, std::string>> console_input::receive() {
  // Suspends until the stdin thread (or a test) sends a line.
  auto result = co_await state_->channel->async_receive(asio::as_tuple(asio::use_awaitable));
  state_->room.notify_one();  // the reader may be waiting for room
  co_return result;
}

std::optional<std::tuple<error_code, std::string>> console_input::try_receive() {
  std::optional<std::tuple<error_code, std::string>> item;
  state_->channel->try_receive([&](error_code ec, std::string line) { item.emplace(ec, std::move(line)); });
  if (item) state_->room.notify_one();
  return item;
}

void console_input::push(std::string line) {
  std::scoped_lock lock(state_->mutex);
  state_->channel->try_send(error_code{}, std::move(line));
}

void console_input::push_end() {
  std::scoped_lock lock(state_->mutex);
  state_->channel->try_send(error_code{asio::error::eof}, std::string{});
}

namespace {

// Blocking read of whatever stdin has: a typed line, a pipe's chunk, a file's block.
long read_stdin_some(char* data, std::size_t size) {
#ifdef _WIN32
  return _read(0, data, static_cast<unsigned>(size));
#else
  ssize_t n;
  do n = ::read(0, data, size);
  while (n < 0 && errno == EINTR);
  return static_cast<long>(n);
#endif
}

}  // namespace

// The stdin thread: splits what it reads into lines and delivers them.
void console_input::read_stdin_lines(const std::shared_ptr<shared_state>& state) {
  line_splitter splitter(state->max_line, 4096);
  while (true) {
    const auto space = splitter.prepare();
    const long n = read_stdin_some(space.data(), space.size());
    if (n <= 0) break;  // end of input (or an error, which ends it too)
    splitter.commit(static_cast<std::size_t>(n));
    for (auto r = splitter.next(); r.what != line_splitter::status::need_more; r = splitter.next()) {
      if (r.what == line_splitter::status::too_long) {
        splitter.skip_long_line();
        if (!state->deliver(make_error_code(errc::line_too_long), {})) return;
      } else if (!state->deliver({}, std::string(r.value.text))) {
        return;
      }
    }
  }
  // A last line without its LF still counts as a line.
  if (!splitter.pending().empty() && !state->deliver({}, std::string(splitter.pending()))) return;
  state->deliver(asio::error::eof, {});
}

void console_input::read_stdin() {
  // Detached: a read of stdin cannot be cancelled portably, and the process
  // must be able to exit while the thread waits for a line nobody will type.
  std::thread([state = state_] { read_stdin_lines(state); }).detach();
}

bool stdout_is_terminal() noexcept {
#ifdef _WIN32
  return _isatty(1) != 0;
#else
  return ::isatty(1) != 0;
#endif
}

void write_line(std::ostream& stream, std::string_view line) {
  stream << line << '\n';
  stream.flush();
}

}  // namespace coronet
