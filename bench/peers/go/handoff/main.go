// to_thread peer, Go (go-handoff): the goroutine hand-off round trip. A worker
// goroutine receives each request on an unbuffered channel, calls a trivial
// function and sends the result back on a second unbuffered channel; main waits
// for every reply before sending the next request. Default GOMAXPROCS. Sum checked.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func f() int { return 1 }

func main() {
	n := 100000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	req := make(chan struct{})
	resp := make(chan int)
	go func() {
		for range req {
			resp <- f()
		}
	}()
	t0 := time.Now()
	s := 0
	for i := 0; i < n; i++ {
		req <- struct{}{}
		s += <-resp
	}
	el := time.Since(t0)
	close(req)
	if n <= 0 || s != n {
		fmt.Fprintln(os.Stderr, "go handoff: bad sum", s)
		os.Exit(1)
	}
	fmt.Printf("to_thread go-handoff ns_per_call %.1f ns\n", float64(el.Nanoseconds())/float64(n))
}
