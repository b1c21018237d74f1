package verify_test

import (
	"bytes"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/forgehook/forgehook/internal/verify"
)

// benchBody returns n bytes of JSON-looking payload.
func benchBody(n int) []byte {
	b := bytes.Repeat([]byte(`{"ref":"refs/heads/main","after":"0123456789abcdef0123456789abcdef01234567"},`), n/76+1)
	return b[:n]
}

func benchHMAC(b *testing.B, a verify.Algorithm, enc verify.Encoding, prefix string, size, nkeys int) {
	body := benchBody(size)
	ks := make([][]byte, nkeys)
	for i := range ks {
		ks[i] = []byte("secret-" + strconv.Itoa(i))
	}
	// Signed with the last key: the worst case under rotation.
	sig := verify.Sign(a, enc, prefix, ks[len(ks)-1], body)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if err := verify.HMAC(a, enc, prefix, sig, body, ks); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHMACSHA256_1KB(b *testing.B) {
	benchHMAC(b, verify.SHA256, verify.Hex, "sha256=", 1<<10, 1)
}

func BenchmarkHMACSHA256_8KB(b *testing.B) {
	benchHMAC(b, verify.SHA256, verify.Hex, "sha256=", 8<<10, 1)
}

func BenchmarkHMACSHA256_1MB(b *testing.B) {
	benchHMAC(b, verify.SHA256, verify.Hex, "sha256=", 1<<20, 1)
}

func BenchmarkHMACSHA256_8KB_3Keys(b *testing.B) {
	benchHMAC(b, verify.SHA256, verify.Hex, "sha256=", 8<<10, 3)
}

func BenchmarkHMACSHA256Base64_8KB(b *testing.B) {
	benchHMAC(b, verify.SHA256, verify.Base64, "", 8<<10, 1)
}

func BenchmarkHMACSHA1_8KB(b *testing.B)   { benchHMAC(b, verify.SHA1, verify.Hex, "sha1=", 8<<10, 1) }
func BenchmarkHMACSHA512_8KB(b *testing.B) { benchHMAC(b, verify.SHA512, verify.Hex, "", 8<<10, 1) }

func BenchmarkStandardWebhooks_8KB(b *testing.B) {
	body := benchBody(8 << 10)
	key := verify.StandardWebhooksKey(swSecret)
	sig := verify.SignStandardWebhooks(key, swID, swTS, body)
	now := time.Unix(swTS, 0)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := verify.StandardWebhooks(swID, swTSStr, sig, body, [][]byte{key}, now, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkToken(b *testing.B) {
	ks := keys("old-token-0123456789abcdef", "new-token-0123456789abcdef")
	b.ReportAllocs()
	for b.Loop() {
		if err := verify.Token("new-token-0123456789abcdef", ks); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBasicAuth(b *testing.B) {
	ks := keys("hook:s3cret")
	h := basic("hook:s3cret")
	b.ReportAllocs()
	for b.Loop() {
		if err := verify.BasicAuth(h, ks); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClientAddr(b *testing.B) {
	trusted := mustAllowlist(b, "10.0.0.0/8", "fd00::/8")
	remote := netip.MustParseAddr("10.0.0.1")
	xff := []string{"198.51.100.1, 203.0.113.7, 10.0.0.3, 10.0.0.2"}
	want := netip.MustParseAddr("203.0.113.7")
	b.ReportAllocs()
	for b.Loop() {
		if got := verify.ClientAddr(remote, xff, trusted); got != want {
			b.Fatal(got)
		}
	}
}

func BenchmarkAllowlistContains(b *testing.B) {
	// GitHub's hooks ranges are a handful of prefixes; take 16.
	var entries []string
	for i := range 16 {
		entries = append(entries, "192.0."+strconv.Itoa(i)+".0/24")
	}
	a := mustAllowlist(b, entries...)
	addr := netip.MustParseAddr("192.0.15.9")
	b.ReportAllocs()
	for b.Loop() {
		if !a.Contains(addr) {
			b.Fatal("not contained")
		}
	}
}
