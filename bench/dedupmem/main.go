// Command dedupmem measures the resident memory that remembering deliveries
// costs, per million: forgehook's store (events appended with a delivery
// key: the dedup and id indexes on disk), against JetStream's own
// Nats-Msg-Id window and a KV bucket with one key per delivery, each in its
// own run. Usage: go run ./bench/dedupmem -n 1000000 -mode store|msgid|kv
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgehook/forgehook/internal/store"
)

func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(f)[0], 10, 64)
			return n
		}
	}
	return 0
}

func settle() int64 {
	for range 3 {
		runtime.GC()
		debug.FreeOSMemory()
		time.Sleep(200 * time.Millisecond)
	}
	return rssKiB()
}

func main() {
	n := flag.Int("n", 1_000_000, "deliveries to remember")
	mode := flag.String("mode", "store", "store (forgehook), msgid (JetStream's Nats-Msg-Id window) or kv (a KV bucket)")
	flag.Parse()
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "dedupmem")
	defer os.RemoveAll(dir)
	s, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer s.Close()
	js := s.JetStream()
	if *mode == "kv" {
		if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "DEDUP", TTL: 72 * time.Hour, Storage: jetstream.FileStorage}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if *mode == "msgid" {
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "MSGID", Subjects: []string{"msgid.>"}, Storage: jetstream.FileStorage, Duplicates: 72 * time.Hour}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	base := settle()
	start := time.Now()
	for i := 0; i < *n; i++ {
		var err error
		if *mode == "store" {
			id := fmt.Sprintf("%036d", i)
			_, err = s.Append(ctx, "ep", store.Subject("ep", "github", "push"), id, id, []byte(`{"id":"x"}`))
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			continue
		}
		if *mode == "msgid" {
			m := nats.NewMsg("msgid.x")
			m.Data = []byte("0191e2a4-5c1e-7b3a-9d6f-123456789abc")
			m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("ep.%024d", i))
			_, err = js.PublishMsgAsync(m)
		} else {
			_, err = js.PublishAsync(fmt.Sprintf("$KV.DEDUP.ep.%024d", i), []byte("0191e2a4-5c1e-7b3a-9d6f-123456789abc"))
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if i%2000 == 1999 {
			<-js.PublishAsyncComplete()
		}
	}
	<-js.PublishAsyncComplete()
	after := settle()
	fmt.Printf("mode=%s entries=%d rss_before=%d KiB rss_after=%d KiB delta=%.1f MiB per_million=%.1f MiB (%.0f bytes/entry) in %s\n",
		*mode, *n, base, after, float64(after-base)/1024, float64(after-base)/1024*1e6/float64(*n), float64(after-base)*1024/float64(*n), time.Since(start).Round(time.Millisecond))
}
