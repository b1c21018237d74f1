package verify_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/forgehook/forgehook/internal/verify"
)

var fuzzAlgorithms = []verify.Algorithm{verify.SHA1, verify.SHA256, verify.SHA512}

// isSentinel reports whether err wraps exactly one verify sentinel.
func isSentinel(err error) bool {
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	return n == 1
}

// decodeHeader strips prefix (ASCII case-insensitively) and decodes the
// digest as the test understands the header formats, independently of the
// package's own decoder.
func decodeHeader(enc verify.Encoding, prefix, header string) ([]byte, bool) {
	header = strings.TrimSpace(header)
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return nil, false
	}
	s := header[len(prefix):]
	if enc == verify.Base64 {
		for _, e := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			if b, err := e.DecodeString(s); err == nil {
				return b, true
			}
		}
		return nil, false
	}
	b, err := hex.DecodeString(s)
	return b, err == nil
}

// FuzzVerifyHMAC checks that HMAC never panics, fails only with a sentinel,
// and accepts a header only if its digest is the HMAC of msg under one of
// the keys: Sign with that key yields the same digest. It also checks that
// whatever Sign produces verifies.
func FuzzVerifyHMAC(f *testing.F) {
	f.Add(uint8(1), false, "sha256=", githubSig256, []byte(githubBody), []byte(githubSecret), []byte("old"))
	f.Add(uint8(1), false, "", giteaSHA256Hex, []byte(giteaBody), []byte("old"), []byte(giteaSecret))
	f.Add(uint8(0), false, "sha1=", "sha1="+giteaSHA1Hex, []byte(giteaBody), []byte(giteaSecret), []byte{})
	f.Add(uint8(2), false, "", giteaSHA512Hex, []byte(giteaBody), []byte(giteaSecret), []byte{})
	f.Add(uint8(1), true, "", giteaSHA256B64, []byte(giteaBody), []byte(giteaSecret), []byte{})
	f.Add(uint8(1), true, "", giteaSHA256URL, []byte(giteaBody), []byte(giteaSecret), []byte{})
	f.Add(uint8(1), false, "sha256=", "sha256=", []byte(""), []byte("k"), []byte{})
	f.Add(uint8(1), false, "sha256=", "SHA256=zz", []byte("x"), []byte("k"), []byte{})
	f.Fuzz(func(t *testing.T, algIdx uint8, b64 bool, prefix, header string, msg, key1, key2 []byte) {
		a := fuzzAlgorithms[int(algIdx)%len(fuzzAlgorithms)]
		enc := verify.Hex
		if b64 {
			enc = verify.Base64
		}
		ks := [][]byte{key1, key2}
		err := verify.HMAC(a, enc, prefix, header, msg, ks)
		if err != nil && !isSentinel(err) {
			t.Fatalf("HMAC = %v, want a verify sentinel", err)
		}
		if err == nil {
			got, ok := decodeHeader(enc, prefix, header)
			if !ok {
				t.Fatalf("HMAC accepted %q (prefix %q, %s) that does not decode", header, prefix, enc)
			}
			var matched bool
			for _, k := range ks {
				if !hmac.Equal(verify.MAC(a, k, msg), got) {
					continue
				}
				matched = true
				signed, ok := decodeHeader(enc, prefix, verify.Sign(a, enc, prefix, k, msg))
				if !ok || !bytes.Equal(signed, got) {
					t.Fatalf("Sign with the matching key gives digest %x, HMAC accepted %x", signed, got)
				}
			}
			if !matched {
				t.Fatalf("HMAC accepted digest %x that is no key's MAC", got)
			}
		}
		// Round trip: a signature Sign makes always verifies, with the
		// key in either position, and not with the other key alone
		// (unless both keys are equal).
		// A prefix with leading white space cannot round-trip, because
		// header values are trimmed; configuration never has one.
		sig := verify.Sign(a, enc, prefix, key1, msg)
		if strings.TrimLeftFunc(prefix, unicode.IsSpace) == prefix {
			if err := verify.HMAC(a, enc, prefix, sig, msg, [][]byte{key2, key1}); err != nil {
				t.Fatalf("HMAC(Sign(...)) = %v", err)
			}
		}
		if !hmac.Equal(verify.MAC(a, key1, msg), verify.MAC(a, key2, msg)) {
			if err := verify.HMAC(a, enc, prefix, sig, msg, [][]byte{key2}); err == nil {
				t.Fatalf("HMAC accepted key1's signature under key2")
			}
		}
	})
}

// FuzzVerifyStandardWebhooks checks that StandardWebhooks never panics,
// fails only with a sentinel, accepts only fresh timestamps and signatures
// that recompute, and accepts whatever SignStandardWebhooks produces.
func FuzzVerifyStandardWebhooks(f *testing.F) {
	f.Add(swID, swTSStr, swSig, []byte(swBody), swSecret, int64(0))
	f.Add(swID, swTSStr, swSig2+" "+swSig, []byte(swBody), swSecret, int64(299))
	f.Add(swID, swTSStr, "v2,"+swSig[3:], []byte(swBody), swSecret, int64(0))
	f.Add(swID, swTSStr, swSig, []byte(swBody), swSecret, int64(301))
	f.Add("", "", "", []byte{}, "", int64(0))
	f.Add(swID, "+"+swTSStr, "v1,", []byte("{}"), "plain", int64(-1))
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte, secret string, skew int64) {
		skew %= 1 << 40
		now := time.Unix(swTS+skew, 0)
		key := verify.StandardWebhooksKey(secret)
		err := verify.StandardWebhooks(id, ts, sig, body, [][]byte{key}, now, 0)
		if err != nil && !isSentinel(err) {
			t.Fatalf("StandardWebhooks = %v, want a verify sentinel", err)
		}
		if err == nil {
			n, perr := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
			if perr != nil {
				t.Fatalf("accepted timestamp %q that is not a number", ts)
			}
			if d := now.Sub(time.Unix(n, 0)); d > verify.StandardWebhooksTolerance || d < -verify.StandardWebhooksTolerance {
				t.Fatalf("accepted timestamp %d, %s away from now", n, d)
			}
			m := hmac.New(sha256.New, key)
			m.Write([]byte(id + "." + strings.TrimSpace(ts) + "."))
			m.Write(body)
			want := m.Sum(nil)
			var found bool
			for _, s := range strings.Fields(sig) {
				if v, ok := strings.CutPrefix(s, "v1,"); ok {
					if b, err := base64.StdEncoding.DecodeString(v); err == nil && hmac.Equal(b, want) {
						found = true
					}
				}
			}
			if !found {
				t.Fatalf("accepted %q: no v1 signature recomputes", sig)
			}
		}
		if id != "" {
			tsn := now.Unix() - skew%300
			own := verify.SignStandardWebhooks(key, id, tsn, body)
			if err := verify.StandardWebhooks(id, strconv.FormatInt(tsn, 10), own, body, [][]byte{key}, now, 0); err != nil {
				t.Fatalf("StandardWebhooks(SignStandardWebhooks(...)) = %v", err)
			}
		}
	})
}

// parseHops lists every address the test can read from the X-Forwarded-For
// values, unmapped and without zone: the only results ClientAddr may give
// besides the peer.
func parseHops(xff []string) []netip.Addr {
	var out []netip.Addr
	for _, h := range xff {
		for _, s := range strings.Split(h, ",") {
			s = strings.TrimSpace(s)
			if ip, err := netip.ParseAddr(s); err == nil {
				out = append(out, ip.Unmap().WithZone(""))
			} else if ap, err := netip.ParseAddrPort(s); err == nil {
				out = append(out, ap.Addr().Unmap().WithZone(""))
			} else if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
				out = append(out, ip.Unmap().WithZone(""))
			}
		}
	}
	return out
}

// FuzzClientAddr checks that ClientAddr never panics, believes the header
// only from a trusted peer, and returns the peer or an address read from the
// header that is not itself trusted (unless every hop is trusted).
func FuzzClientAddr(f *testing.F) {
	f.Add("10.0.0.1", "198.51.100.1, 203.0.113.7, 10.0.0.2", "10.0.0.0/8")
	f.Add("203.0.113.7", "10.0.0.9", "10.0.0.0/8")
	f.Add("::ffff:10.0.0.1", "[2001:db8::7]:4711\n203.0.113.7:80", "10.0.0.0/8,fd00::/8")
	f.Add("fd00::1", "garbage, fe80::1%eth0", "fd00::/8")
	f.Add("10.0.0.1", ",,,", "0.0.0.0/0")
	f.Add("", "1.2.3.4", "0.0.0.0/0")
	f.Fuzz(func(t *testing.T, remoteS, xffS, trustedS string) {
		remote, _ := netip.ParseAddr(remoteS)
		trusted, _ := verify.ParseAllowlist(strings.Split(trustedS, ","))
		xff := strings.Split(xffS, "\n")
		got := verify.ClientAddr(remote, xff, trusted)
		if got == remote.Unmap() {
			return
		}
		if !trusted.Contains(remote) {
			t.Fatalf("ClientAddr believed the header of untrusted peer %s: %s", remote, got)
		}
		for _, h := range parseHops(xff) {
			if h == got {
				return
			}
		}
		t.Fatalf("ClientAddr(%s, %q) = %s, neither the peer nor a hop", remote, xff, got)
	})
}
