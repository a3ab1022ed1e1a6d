package main

import (
	"context"
	"fmt"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/wallet"
)

// runSync syncs the active profiles, or the named one, and saves what
// the server delivered.
func runSync(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("sync", "sync [--profile NAME]",
		"Fetch the state of each active profile's mobile ID and the encryption keys the server delivered to it,\nrecovered ones included, and print how many keys were new.")
	profile := fs.String("profile", "", "sync only the profile `NAME` (profile name or ID), whatever its state")
	w, err := fs.openWallet(args)
	if err != nil {
		return err
	}
	var profiles []wallet.Profile
	if *profile != "" {
		p, err := w.Find(*profile)
		if err != nil {
			return err
		}
		profiles = append(profiles, p)
	} else {
		for _, p := range w.Profiles() {
			if p.State == wallet.StateActive {
				profiles = append(profiles, p)
			}
		}
	}
	if len(profiles) == 0 {
		return lanyard.Errorf(lanyard.ENOTFOUND, "The wallet has no active profile to sync.")
	}
	added, failed := 0, error(nil)
	for _, p := range profiles {
		p, n, _, err := syncProfile(ctx, a, p)
		if err != nil {
			failed = firstErr(failed, fmt.Errorf("sync %q: %w", p.ProfileName, err))
			continue
		}
		if err := w.UpdateProfile(p); err != nil {
			return err
		}
		added += n
	}
	if err := w.Save(); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, countKeys(added))
	return failed
}

// syncProfile fetches the state and encryption keys of p's mobile ID and
// returns p updated with them, the number of keys that were new and
// whether the server has more recovered keys on the way.
func syncProfile(ctx context.Context, a *app, p wallet.Profile) (wallet.Profile, int, bool, error) {
	if p.MobileID == "" || p.AuthenticationKey == nil {
		return p, 0, false, lanyard.Errorf(lanyard.ECONFLICT, "Profile %q was not enrolled by this app.", p.ProfileName)
	}
	resp, err := a.client(p.ServerURL).Sync(ctx, p.MobileID, p.AuthenticationKey)
	if err != nil {
		return p, 0, false, err
	}
	have := map[string]bool{}
	for _, c := range p.Certificates {
		have[certKey(c.Certificate)] = true
	}
	added := 0
	for _, k := range resp.EncryptionKeys {
		c, err := openEncryptionKey(p.TransportKey, k)
		if err != nil {
			return p, 0, false, err
		}
		if have[certKey(c.Certificate)] {
			continue
		}
		have[certKey(c.Certificate)] = true
		p.Certificates = append(p.Certificates, c)
		added++
	}
	if resp.State != "" {
		p.State = wallet.State(resp.State)
	}
	return p, added, resp.RecoveryPending, nil
}

// firstErr returns the first of two errors that is not nil.
func firstErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

// countKeys says how many encryption keys were added.
func countKeys(n int) string {
	if n == 1 {
		return "1 new encryption key"
	}
	return fmt.Sprintf("%d new encryption keys", n)
}
