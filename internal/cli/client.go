package cli

import (
	"flag"
	"net/http"
	"time"

	"github.com/forgehook/forgehook/internal/api"
)

type flagSetWithClient struct {
	*flag.FlagSet
	url, token string
	json       bool
}

func (f *flagSetWithClient) client() *api.Client {
	return &api.Client{BaseURL: f.url, Token: f.token, HTTP: &http.Client{Timeout: 30 * time.Second}}
}
