// SPDX-License-Identifier: BSL-1.0
// go_echo: the Go peer of coronet's benchmark. A line echo server written the
// way Go is usually written: a goroutine per connection, a bufio.Reader and a
// bufio.Writer, flushed when no more input is already buffered. Standard
// library only.
//
//	go run bench/peers/go_echo.go -port 0    (prints "listening on 127.0.0.1:PORT" on stderr)
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
)

func serveEcho(conn net.Conn) {
	defer conn.Close()
	reader := bufio.NewReader(conn)
	writer := bufio.NewWriter(conn)
	for {
		// A line longer than the reader's buffer comes in buffer-sized pieces;
		// echoing each piece as it comes is the same bytes.
		line, err := reader.ReadSlice('\n')
		if len(line) > 0 {
			if _, werr := writer.Write(line); werr != nil {
				return
			}
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			writer.Flush()
			return
		}
		if reader.Buffered() == 0 {
			if writer.Flush() != nil {
				return
			}
		}
	}
}

func main() {
	port := flag.Int("port", 5000, "port to listen on (0 picks a free one)")
	flag.Parse()
	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_echo:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "listening on %s\n", listener.Addr())
	for {
		conn, err := listener.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "go_echo:", err)
			continue
		}
		go serveEcho(conn)
	}
}
