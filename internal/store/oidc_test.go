package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/oidc"
	"github.com/lanyard-id/lanyard/internal/store"
	"github.com/lanyard-id/lanyard/internal/testenv"
)

// TestOIDCCodes: a code's life in the store, and of many exchanges of one
// code at once exactly one wins, the others count as replays.
func TestOIDCCodes(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		u := alice()
		if err := store.NewUserService(db, fastHash).CreateUser(ctx, lanyard.CLIActor, u, "correct horse"); err != nil {
			t.Fatal(err)
		}
		st := store.NewOIDCStore(db)
		c := &oidc.Client{Name: "Wiki", RedirectURIs: []string{"https://wiki.example/cb"}, IDTokenAlg: "RS256"}
		if err := st.CreateClient(ctx, lanyard.CLIActor, c); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateClient(ctx, lanyard.CLIActor, &oidc.Client{ClientID: c.ClientID, Name: "Again"}); lanyard.ErrorCode(err) != lanyard.ECONFLICT {
			t.Fatalf("a second client with the same ID: %v", err)
		}
		sub, err := st.Subject(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := st.Subject(ctx, u.ID); err != nil || again != sub {
			t.Fatalf("subject %q then %q (%v)", sub, again, err)
		}

		issue := func(id, code string) {
			t.Helper()
			r := &oidc.AuthRequest{ID: id, ClientID: c.ClientID}
			r.Request.RedirectURI, r.Request.Scopes = "https://wiki.example/cb", []string{"openid"}
			if err := st.CreateAuthRequest(ctx, r, 10*time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := st.SaveCode(ctx, id, []byte(code), time.Minute); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
				t.Fatalf("a code for a request not done: %v", err)
			}
			if err := st.CompleteAuthRequest(ctx, id, u.ID, sub, lanyard.AuthMobileID, now); err != nil {
				t.Fatal(err)
			}
			if err := st.SaveCode(ctx, id, []byte(code), time.Minute); err != nil {
				t.Fatal(err)
			}
			if _, err := st.FindAuthRequest(ctx, id); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
				t.Fatalf("a request with a code is found by its ID: %v", err)
			}
		}

		issue("r1", "code one")
		r, err := st.RedeemCode(ctx, []byte("code one"))
		if err != nil || r.Subject != sub || r.Method != lanyard.AuthMobileID || r.Request.RedirectURI != "https://wiki.example/cb" {
			t.Fatalf("redeem: %+v %v", r, err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				errs[i] = st.CreateToken(ctx, &oidc.Token{ID: "t" + string(rune('a'+i)), AuthRequestID: "r1", ClientID: c.ClientID, UserID: u.ID, Subject: sub}, time.Hour)
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch lanyard.ErrorCode(err) {
			case "":
				won++
			case lanyard.ECONFLICT:
			default:
				t.Fatalf("exchange: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d exchanges of one code won, want 1", won)
		}
		if _, err := st.RedeemCode(ctx, []byte("code one")); lanyard.ErrorCode(err) != lanyard.ECONFLICT {
			t.Fatalf("a used code: %v", err)
		}

		// A token request that fails before its last write uses up
		// nothing: the application's retry gets its tokens, no replay.
		issue("r3", "code three")
		access := func(id string) *oidc.Token {
			return &oidc.Token{ID: id, AuthRequestID: "r3", ClientID: c.ClientID, UserID: u.ID, Subject: sub}
		}
		refresh := &oidc.RefreshToken{Hash: []byte("refresh three"), AuthRequestID: "r3", ClientID: c.ClientID, UserID: u.ID, Subject: sub}
		issue("r4", "code four")
		var writes int
		store.CountWrites(db, &writes)
		if err := st.CreateTokens(ctx, nil, access("probe"), time.Hour, nil, 0); err != nil {
			t.Fatal(err)
		}
		// The probe wrote what the next one writes before its refresh
		// token: the sweep of expired ones, then the insert.
		store.FailBeforeWrite(db, writes+2)
		if err := st.CreateTokens(ctx, nil, &oidc.Token{ID: "t4", AuthRequestID: "r4", ClientID: c.ClientID, UserID: u.ID, Subject: sub}, time.Hour,
			&oidc.RefreshToken{Hash: []byte("refresh four"), AuthRequestID: "r4", ClientID: c.ClientID, UserID: u.ID, Subject: sub}, time.Hour); err == nil {
			t.Fatal("the failed transaction succeeded")
		}
		store.FailBeforeWrite(db, 0)
		if err := st.CreateTokens(ctx, nil, &oidc.Token{ID: "t4", AuthRequestID: "r4", ClientID: c.ClientID, UserID: u.ID, Subject: sub}, time.Hour,
			&oidc.RefreshToken{Hash: []byte("refresh four"), AuthRequestID: "r4", ClientID: c.ClientID, UserID: u.ID, Subject: sub}, time.Hour); err != nil {
			t.Fatalf("the retry after a failed token request: %v", err)
		}
		// And a refresh uses up the old token in the same transaction.
		if err := st.CreateRefreshToken(ctx, refresh, time.Hour); err != nil {
			t.Fatal(err)
		}
		next := *refresh
		next.Hash = []byte("refresh three, next")
		byRefresh := access("t3b")
		byRefresh.ByRefresh = true
		if err := st.CreateTokens(ctx, refresh.Hash, byRefresh, time.Hour, &next, time.Hour); err != nil {
			t.Fatal(err)
		}
		again := access("t3c")
		again.ByRefresh = true
		if err := st.CreateTokens(ctx, refresh.Hash, again, time.Hour, &oidc.RefreshToken{Hash: []byte("never"), AuthRequestID: "r3"}, time.Hour); lanyard.ErrorCode(err) != lanyard.ECONFLICT {
			t.Fatalf("a used refresh token again: %v", err)
		}
		// A refresh token whose grant was revoked after the token was found
		// is refused as ended, not as a replay.
		replays := func() int {
			events, err := db.FindAuditEvents(ctx, lanyard.AuditFilter{Action: "oidc.refresh.replay"})
			if err != nil {
				t.Fatal(err)
			}
			return len(events)
		}
		replayed := replays()
		five := &oidc.RefreshToken{Hash: []byte("refresh five"), AuthRequestID: "r4", ClientID: c.ClientID, UserID: u.ID, Subject: sub}
		if err := st.CreateRefreshToken(ctx, five, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := st.RevokeGrant(ctx, "r4"); err != nil {
			t.Fatal(err)
		}
		byFive := access("t5")
		byFive.ByRefresh = true
		if err := st.CreateTokens(ctx, five.Hash, byFive, time.Hour, &oidc.RefreshToken{Hash: []byte("never five"), AuthRequestID: "r4"}, time.Hour); lanyard.ErrorCode(err) != lanyard.EEXPIRED {
			t.Fatalf("a revoked refresh token: %v", err)
		}
		if n := replays(); n != replayed {
			t.Fatalf("a revoked refresh token was audited as %d replays", n-replayed)
		}

		issue("r2", "code two")
		six := &oidc.RefreshToken{Hash: []byte("refresh six"), AuthRequestID: "r2", ClientID: c.ClientID, UserID: u.ID, Subject: sub}
		if err := st.CreateRefreshToken(ctx, six, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Minute)
		bySix := access("t6")
		bySix.ByRefresh = true
		if err := st.CreateTokens(ctx, six.Hash, bySix, time.Hour, &oidc.RefreshToken{Hash: []byte("never six"), AuthRequestID: "r2"}, time.Hour); lanyard.ErrorCode(err) != lanyard.EEXPIRED {
			t.Fatalf("an expired refresh token: %v", err)
		}
		if _, err := st.RedeemCode(ctx, []byte("code two")); lanyard.ErrorCode(err) != lanyard.EEXPIRED {
			t.Fatalf("an expired code: %v", err)
		}
		if _, err := st.RedeemCode(ctx, []byte("no such code")); lanyard.ErrorCode(err) != lanyard.ENOTFOUND {
			t.Fatalf("an unknown code: %v", err)
		}
	})
}

// TestOIDCKeys: one active key per algorithm; a rotation retires the old
// one and prunes keys retired long ago.
func TestOIDCKeys(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		st := store.NewOIDCStore(db)
		key := func(id string) *oidc.Key {
			return &oidc.Key{ID: id, Algorithm: "RS256", Sealed: []byte("sealed " + id), PublicKey: []byte("public " + id)}
		}
		if err := st.InsertKey(ctx, key("k1")); err != nil {
			t.Fatal(err)
		}
		if err := st.InsertKey(ctx, key("k2")); lanyard.ErrorCode(err) != lanyard.ECONFLICT {
			t.Fatalf("a second active key: %v", err)
		}
		now = now.Add(time.Hour)
		if err := st.RotateKeys(ctx, lanyard.CLIActor, []*oidc.Key{key("k2")}, now.Add(-24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		ks, err := st.Keys(ctx)
		if err != nil || len(ks) != 2 || ks[0].ID != "k2" || !ks[0].RetiredAt.IsZero() || ks[1].ID != "k1" || !ks[1].RetiredAt.Equal(now) {
			t.Fatalf("keys after rotation: %+v %v", ks, err)
		}
		now = now.Add(48 * time.Hour)
		if err := st.RotateKeys(ctx, lanyard.CLIActor, []*oidc.Key{key("k3")}, now.Add(-24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		ks, _ = st.Keys(ctx)
		if len(ks) != 2 || ks[0].ID != "k3" || ks[1].ID != "k2" {
			t.Fatalf("keys after the second rotation: %+v", ks)
		}
	})
}
