package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/wallet"
)

// recoveryPolls and recoveryDelay bound how long enroll waits for
// recovered keys the server delivers in the background; tests shorten the
// delay.
const recoveryPolls = 10

var recoveryDelay = 300 * time.Millisecond

// runEnroll enrolls the device with the server an enrollment link names
// and adds the new profile to the wallet.
func runEnroll(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("enroll", "enroll [--device NAME] QR.png|LINK",
		"Activate a mobile ID: read the enrollment link from a PNG holding the QR code, or take the link itself,\nmake the device keys, enroll with the server and add the profile to the wallet, which is created if missing.\nPrints the profile name.")
	device := fs.String("device", "", "the device `NAME` the server shows (default: the host name)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := fs.want(pos, 1, 1); err != nil {
		return err
	}
	name, err := deviceName(*device)
	if err != nil {
		return err
	}
	link, err := readLink(pos[0])
	if err != nil {
		return err
	}
	baseURL, code, err := appclient.ParseEnrollmentLink(link)
	if err != nil {
		return err
	}
	// The wallet opens before the code is spent, so a wrong PIN costs
	// nothing.
	w, err := a.openOrCreateWallet()
	if err != nil {
		return err
	}
	p := wallet.Profile{ServerURL: baseURL, DeviceName: name}
	if err := p.GenerateKeys(); err != nil {
		return err
	}
	req, err := appclient.NewEnrollRequest(code, p.DeviceName, p.SignatureKey, p.AuthenticationKey, p.TransportKey.PublicKey())
	if err != nil {
		return err
	}
	resp, err := a.client(baseURL).Enroll(ctx, req)
	if err != nil {
		return err
	}
	if err := fillProfile(&p, resp); err != nil {
		return err
	}
	if p, err = w.AddProfile(p); err != nil {
		return err
	}
	if err := w.Save(); err != nil {
		return err
	}
	if resp.RecoveryPending {
		a.awaitRecovery(ctx, w, p)
	}
	fmt.Fprintln(a.stdout, p.ProfileName)
	return nil
}

// deviceName returns the device name to enroll with: the flag, else the
// host name.
func deviceName(flag string) (string, error) {
	name := strings.TrimSpace(flag)
	if name == "" {
		name, _ = os.Hostname()
	}
	if name == "" {
		name = "lanyard-app"
	}
	if n := utf8.RuneCountInString(name); n > appclient.MaxDeviceName || !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: --device: at most %d characters of text", errUsage, appclient.MaxDeviceName)
	}
	return name, nil
}

// awaitRecovery syncs a freshly enrolled profile until the server has
// delivered its recovered keys, for a bounded time. Enrollment has
// succeeded already, so problems are reported on stderr, not as failure.
func (a *app) awaitRecovery(ctx context.Context, w *wallet.Wallet, p wallet.Profile) {
	added, pending := 0, true
	for i := 0; i < recoveryPolls && pending; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(recoveryDelay):
			}
		}
		var n int
		var err error
		if p, n, pending, err = syncProfile(ctx, a, p); err != nil {
			fmt.Fprintf(a.stderr, "note: recovered keys not fetched yet (%s); run 'lanyard-app sync' later\n", oneLine(err))
			return
		}
		added += n
	}
	err := w.UpdateProfile(p)
	if err == nil {
		err = w.Save()
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "note: recovered keys not saved (%s); run 'lanyard-app sync'\n", oneLine(err))
		return
	}
	fmt.Fprintf(a.stderr, "note: %s recovered\n", countKeys(added))
	if pending {
		fmt.Fprintln(a.stderr, "note: more recovered keys are on their way; run 'lanyard-app sync' later")
	}
}
