package main

import (
	"fmt"

	"github.com/lanyard-id/lanyard/appclient"
	"github.com/lanyard-id/lanyard/internal/cli"
	"github.com/lanyard-id/lanyard/internal/wallet"
)

// pinEnv is the environment variable the PIN is read from when no
// --pin-file is given.
const pinEnv = "LANYARD_APP_PIN"

// pin returns the wallet PIN from --pin-file, without its trailing
// newline, or from $LANYARD_APP_PIN.
func (a *app) pin() (string, error) {
	if a.pinFile == "" {
		if pin := a.getenv(pinEnv); pin != "" {
			return pin, nil
		}
		return "", fmt.Errorf("%w: no PIN: give --pin-file FILE or set %s", errUsage, pinEnv)
	}
	return cli.ReadSecret(a.stdin, a.pinFile, "PIN file")
}

// openWallet opens the wallet with the PIN.
func (a *app) openWallet() (*wallet.Wallet, error) {
	return a.wallet(wallet.Open)
}

// openOrCreateWallet opens the wallet, or creates it (and its folder)
// protected by the PIN if there is none yet.
func (a *app) openOrCreateWallet() (*wallet.Wallet, error) {
	return a.wallet(wallet.OpenOrCreate)
}

// wallet checks the wallet options and calls open with them.
func (a *app) wallet(open func(dir, pin string) (*wallet.Wallet, error)) (*wallet.Wallet, error) {
	if a.walletDir == "" {
		return nil, fmt.Errorf("%w: no wallet: give --wallet DIR", errUsage)
	}
	pin, err := a.pin()
	if err != nil {
		return nil, err
	}
	return open(a.walletDir, pin)
}

// client returns an app API client for the server at baseURL.
func (a *app) client(baseURL string) *appclient.Client {
	return &appclient.Client{BaseURL: baseURL}
}
