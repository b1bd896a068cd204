#include "coronet/console.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <optional>
#include <thread>
#include <utility>

#ifdef _WIN32
#include <fcntl.h>
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
  line_splitter splitter(state->max_line, 16 * 1024);
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
#ifdef _WIN32
  // Bytes as they are: text mode would end a pipe's input at a 0x1A byte.
  // CRLF needs no translation, the splitter takes it as a line ending.
  _setmode(0, _O_BINARY);
#endif
  // Detached: a read of stdin cannot be cancelled portably, and the process
  // must be able to exit while the thread waits for a line nobody will type.
  std::thread([state = state_] { read_stdin_lines(state); }).detach();
}

namespace {

// Blocking write of all of `bytes`; false when the console has gone (EPIPE, say).
bool write_all_to(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
#ifdef _WIN32
    const int n =
        _write(fd, bytes.data(), static_cast<unsigned>(std::min<std::size_t>(bytes.size(), 1 << 20)));
#else
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
#endif
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// What the program and the writer thread share. The thread holds it too, so
// it may outlive the stream while it is blocked in a write at exit.
struct console_output_queue {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::string> chunks;  // flushed, not yet written
  std::size_t bytes = 0;           // in chunks
  bool writing = false;            // the thread holds a chunk it took out
  bool gone = false;               // the console is closed: nothing more is written
  std::size_t missed_lines = 0;    // dropped since the console last had room
};

}  // namespace

class console_output::buffer : public std::streambuf {
 public:
  buffer(int fd, std::size_t limit, std::chrono::milliseconds drain_time)
      : queue_(std::make_shared<console_output_queue>()), limit_(limit), drain_time_(drain_time) {
    // Detached: a write to a console that never reads again cannot be
    // cancelled, and must not hold the process up.
    std::thread([queue = queue_, fd] { write_until_gone(*queue, fd); }).detach();
  }

  ~buffer() override {
    sync();
    // Gives what is queued a short while to reach the console, no more.
    std::unique_lock lock(queue_->mutex);
    queue_->changed.wait_for(lock, drain_time_,
                             [&] { return queue_->gone || (queue_->chunks.empty() && !queue_->writing); });
  }

 protected:
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) pending_.push_back(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }

  std::streamsize xsputn(const char* data, std::streamsize size) override {
    pending_.append(data, static_cast<std::size_t>(size));
    return size;
  }

  // A flush: the chunk goes to the writer thread, or is counted as missed.
  int sync() override {
    if (pending_.empty()) return 0;
    std::string chunk = std::exchange(pending_, {});
    {
      std::scoped_lock lock(queue_->mutex);
      if (queue_->gone) return 0;
      if (queue_->bytes + chunk.size() > limit_) {
        queue_->missed_lines += std::max<std::size_t>(1, std::count(chunk.begin(), chunk.end(), '\n'));
        return 0;
      }
      if (queue_->missed_lines != 0) {
        // Appended piece by piece: GCC 12 at -O2 warns (-Wrestrict) about
        // "(" + std::to_string(n), wrongly.
        std::string notice = "(";
        notice += std::to_string(queue_->missed_lines);
        notice += " lines not shown: the console was not reading)\n";
        queue_->missed_lines = 0;
        queue_->bytes += notice.size();
        queue_->chunks.push_back(std::move(notice));
      }
      queue_->bytes += chunk.size();
      queue_->chunks.push_back(std::move(chunk));
    }
    queue_->changed.notify_all();
    return 0;
  }

 private:
  // The writer thread: takes each chunk in turn and writes it, blocking as
  // long as the console makes it; ends when the console is gone.
  static void write_until_gone(console_output_queue& queue, int fd) {
    std::unique_lock lock(queue.mutex);
    while (true) {
      queue.changed.wait(lock, [&] { return !queue.chunks.empty(); });
      std::string chunk = std::move(queue.chunks.front());
      queue.chunks.pop_front();
      queue.writing = true;
      lock.unlock();
      const bool written = write_all_to(fd, chunk);
      lock.lock();
      queue.bytes -= chunk.size();
      queue.writing = false;
      if (!written) {
        queue.gone = true;
        queue.chunks.clear();
      }
      queue.changed.notify_all();
      if (!written) return;
    }
  }

  std::shared_ptr<console_output_queue> queue_;
  std::string pending_;  // written since the last flush
  const std::size_t limit_;
  const std::chrono::milliseconds drain_time_;
};

console_output::console_output(int fd, std::size_t limit, std::chrono::milliseconds drain_time)
    : std::ostream(nullptr), buffer_(std::make_unique<buffer>(fd, limit, drain_time)) {
  rdbuf(buffer_.get());
}

console_output::~console_output() {
  rdbuf(nullptr);
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
