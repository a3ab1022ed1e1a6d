package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net/url"
	"strings"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/wallet"
)

// runAuthenticate answers a server's challenge and prints who it
// authenticated.
func runAuthenticate(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("authenticate", "authenticate URL [--profile NAME]",
		"Authenticate to the server at URL (its base URL, or any address of its app API) by answering a challenge\nwith a profile's authentication key, and print the authenticated username. The profile is the one\nnamed, else the latest active profile of that server. The app signs only for a server it holds a\nprofile of.")
	profile := fs.String("profile", "", "authenticate with the profile `NAME`")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := fs.want(pos, 1, 1); err != nil {
		return err
	}
	baseURL, err := serverBase(pos[0])
	if err != nil {
		return err
	}
	w, err := a.openWallet()
	if err != nil {
		return err
	}
	id, err := authIdentity(w, baseURL, *profile)
	if err != nil {
		return err
	}
	client := a.client(baseURL)
	ch, err := client.Challenge(ctx)
	if err != nil {
		return err
	}
	digest := sha256.Sum256(appclient.AuthPayload(appclient.Origin(baseURL), ch.ChallengeID, ch.Challenge))
	sig, err := id.Key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return fmt.Errorf("sign the challenge: %w", err)
	}
	resp, err := client.Verify(ctx, appclient.VerifyRequest{ChallengeID: ch.ChallengeID, Certificate: id.Certificate.Raw, Signature: sig})
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, resp.Username)
	return nil
}

// serverBase returns the base URL of the server an address points at:
// scheme and host, plus any path before /app/v1/.
func serverBase(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", lanyard.Errorf(lanyard.EINVALID, "%q is not a server address: give an https:// or http:// URL.", raw)
	}
	path := u.EscapedPath()
	if i := strings.Index(path+"/", "/app/v1/"); i >= 0 {
		path = path[:i]
	}
	return u.Scheme + "://" + u.Host + strings.TrimRight(path, "/"), nil
}

// authIdentity chooses the authentication key for a server: the named
// profile's, else that of the most recently added active profile of the
// server (after a re-enrollment the newest one is the valid one). It never
// chooses a profile of another server: a signature for one server must not
// be handed to another.
func authIdentity(w *wallet.Wallet, baseURL, name string) (wallet.Identity, error) {
	if name != "" {
		p, err := w.Find(name)
		if err != nil {
			return wallet.Identity{}, err
		}
		if !sameServer(p.ServerURL, baseURL) {
			return wallet.Identity{}, lanyard.Errorf(lanyard.EFORBIDDEN, "Profile %q is of %s, not of %s; the app signs only for the server of the profile.", p.ProfileName, p.ServerURL, baseURL)
		}
		return w.AuthenticationIdentity(p.ID)
	}
	profiles := w.Profiles()
	for i := len(profiles) - 1; i >= 0; i-- {
		p := profiles[i]
		if p.State != wallet.StateActive || !sameServer(p.ServerURL, baseURL) {
			continue
		}
		if id, err := w.AuthenticationIdentity(p.ID); err == nil {
			return id, nil
		}
	}
	return wallet.Identity{}, lanyard.Errorf(lanyard.EFORBIDDEN, "The wallet holds no active profile of %s; the app signs only for servers it holds a profile of.", baseURL)
}

// sameServer compares two base URLs, ignoring the case of the scheme and
// host and a trailing slash.
func sameServer(a, b string) bool {
	ua, errA := url.Parse(strings.TrimRight(a, "/"))
	ub, errB := url.Parse(strings.TrimRight(b, "/"))
	return errA == nil && errB == nil && strings.EqualFold(ua.Scheme, ub.Scheme) &&
		strings.EqualFold(ua.Host, ub.Host) && ua.EscapedPath() == ub.EscapedPath()
}
