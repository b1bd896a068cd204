// SPDX-License-Identifier: BSL-1.0
// udp_client: finding the server. The name's addresses, IPv4 first, for
// send_lines() (udp_client.cpp), which sends to the first and goes on to the
// next while none has answered. Read this first, then udp_client.cpp.
#include <fmt/format.h>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/this_coro.hpp>

#include <string>
#include <utility>
#include <vector>

#include "coronet/awaitable.hpp"
#include "coronet/console.hpp"
#include "coronet/net.hpp"
#include "coronet/protocol.hpp"
#include "udp_client/udp_client.hpp"

namespace coronet {

namespace {

// The server's addresses, IPv4 first: servers listen on 127.0.0.1 by
// default, and "localhost" may name ::1 as well. Suspends while the system's
// resolver looks the name up (on a thread of Asio's).
asio::awaitable<std::vector<udp::endpoint>> resolve_server(udp_client_options options, console con) {
  udp::resolver resolver(co_await asio::this_coro::executor);
  const std::string host(unbracketed(options.host));  // "[::1]" is ::1
  auto [ec, results] = co_await resolver.async_resolve(host, std::to_string(options.port),
                                                       udp::resolver::numeric_service, use_nothrow_awaitable);
  std::vector<udp::endpoint> v4;
  std::vector<udp::endpoint> v6;
  for (const auto& entry : results)
    (entry.endpoint().address().is_v4() ? v4 : v6).push_back(entry.endpoint());
  v4.insert(v4.end(), v6.begin(), v6.end());
  if (v4.empty()) write_line(con.err, fmt::format("error: cannot resolve {}: {}", host, describe(ec)));
  co_return v4;
}

}  // namespace

asio::awaitable<int> run_udp_client(udp_client_options options, console con) {
  auto servers = co_await resolve_server(options, con);
  if (servers.empty()) co_return 1;
  co_return co_await send_lines(std::move(servers), std::move(options), con);
}

}  // namespace coronet
