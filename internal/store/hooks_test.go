package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestStoreHookRecords(t *testing.T) {
	dir := t.TempDir()
	s := openEmbedded(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	fp, err := s.Fingerprinter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, b := fp("secret-one"), fp("secret-two")
	if a == b || len(a) != 32 || strings.Contains(a, "secret") {
		t.Fatalf("fingerprints %q %q", a, b)
	}
	if a == fingerprint(make([]byte, 32), "secret-one") {
		t.Fatal("fingerprint not keyed by the installation's key")
	}

	if _, ok, err := s.HookRecord(ctx, "ep", "repo", "acme/app"); err != nil || ok {
		t.Fatalf("record before any: ok=%v err=%v", ok, err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	recs := []HookRecord{
		{Endpoint: "ep", Forge: "gitea", TargetKind: "repo", TargetName: "acme/app", HookID: "7", URL: "https://h/hooks/ep", Events: []string{"push"}, Active: true, SecretFingerprint: a, AppliedAt: now},
		{Endpoint: "ep", Forge: "gitea", TargetKind: "org", TargetName: "acme", HookID: "9", AppliedAt: now},
		{Endpoint: "ab", Forge: "gitea", TargetKind: "repo", TargetName: "x/y.z", HookID: "1", AppliedAt: now},
	}
	for _, r := range recs {
		if err := s.PutHookRecord(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutHookRecord(ctx, HookRecord{Endpoint: "a.b", TargetKind: "repo", TargetName: "x", HookID: "1"}); err == nil {
		t.Error("an endpoint name with a dot was accepted as a key part")
	}
	got, err := s.HookRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Endpoint != "ab" || got[1].TargetKind != "org" || got[2].HookID != "7" || got[2].SecretFingerprint != a || !got[2].AppliedAt.Equal(now) {
		t.Fatalf("records = %+v", got)
	}
	if err := s.DeleteHookRecord(ctx, "ep", "org", "acme"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteHookRecord(ctx, "ep", "org", "acme"); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	r, ok, err := s.HookRecord(ctx, "ep", "repo", "acme/app")
	if err != nil || !ok || r.HookID != "7" {
		t.Fatalf("record = %+v %v %v", r, ok, err)
	}
	if got, _ := s.HookRecords(ctx); len(got) != 2 {
		t.Fatalf("after delete: %d records", len(got))
	}

	// The key and the records survive a restart, so fingerprints agree.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openEmbedded(t, dir)
	defer s2.Close()
	fp2, err := s2.Fingerprinter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fp2("secret-one") != a {
		t.Error("fingerprint changed across a restart")
	}
	if got, _ := s2.HookRecords(ctx); len(got) != 2 {
		t.Fatalf("after restart: %d records", len(got))
	}
}
