#include "coronet/net.hpp"

#include <CLI/CLI.hpp>

namespace coronet {

void warn_if_exposed(const asio::ip::address& address, std::ostream& err) {
  if (address.is_loopback()) return;
  err << "warning: listening on " << address.to_string()
      << ", which other machines can reach; use the default 127.0.0.1 to stay local\n";
}

void add_common_flags(CLI::App& app, const std::string& program_name) {
  app.set_version_flag("--version", program_name + " " + CORONET_VERSION);
}

}  // namespace coronet
