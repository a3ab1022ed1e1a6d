package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/lanyard-id/lanyard/internal/wallet"
)

// runProfiles lists the wallet's profiles as a table or as JSON.
func runProfiles(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("profiles", "profiles [--json]", "List the profiles in the wallet with their certificates.")
	asJSON := fs.Bool("json", false, "print a JSON array of profiles, certificates in PEM")
	w, err := fs.openWallet(args)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(w.View())
	}
	profiles := w.Profiles()
	if len(profiles) == 0 {
		fmt.Fprintln(a.stdout, "The wallet holds no profile.")
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tSERVER\tUSER ID\tSTATE\tCERTIFICATES")
	for _, p := range profiles {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.ProfileName, p.ServerName, p.UserID, p.State, certSummary(p))
	}
	return tw.Flush()
}

// certSummary lists a profile's certificates by usage, with their expiry.
func certSummary(p wallet.Profile) string {
	var parts []string
	for _, c := range p.Certificates {
		s := fmt.Sprintf("%s until %s", c.Usage, c.Certificate.NotAfter.UTC().Format("2006-01-02"))
		if c.Recovered {
			s += " (recovered)"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
