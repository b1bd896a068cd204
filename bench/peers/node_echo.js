// SPDX-License-Identifier: BSL-1.0
// node_echo: the Node.js peer of coronet's benchmark. A line echo server on
// the `net` module: every complete line of a chunk written back in one write,
// the unfinished tail kept for the next chunk.
//
//   node bench/peers/node_echo.js --port 0   (prints "listening on 127.0.0.1:PORT" on stderr)
'use strict';
const net = require('net');

const portFlag = process.argv.indexOf('--port');
const port = portFlag >= 0 ? Number(process.argv[portFlag + 1]) : 5000;

const server = net.createServer({noDelay: true}, (socket) => {
  let tail = null;  // bytes after the last LF seen, waiting for the rest of their line
  socket.on('data', (chunk) => {
    const data = tail ? Buffer.concat([tail, chunk]) : chunk;
    const end = data.lastIndexOf(10) + 1;  // just past the last complete line
    if (end > 0) socket.write(data.subarray(0, end));
    tail = end < data.length ? data.subarray(end) : null;
  });
  socket.on('error', () => socket.destroy());
});

server.listen({host: '127.0.0.1', port, backlog: 4096}, () => {
  const address = server.address();
  process.stderr.write(`listening on ${address.address}:${address.port}\n`);
});
