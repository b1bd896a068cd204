// SPDX-License-Identifier: BSL-1.0
// Asio's own code, compiled once for the whole project
// (BOOST_ASIO_SEPARATE_COMPILATION) instead of in every file that uses it.
#include <boost/asio/impl/src.hpp>
