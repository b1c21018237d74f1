// Command forgehook is a self-hosted webhook gateway for git forges: it
// receives each forge's webhooks, verifies them, stores them durably before
// it answers, and turns them into one vocabulary of events.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/forgehook/forgehook/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
