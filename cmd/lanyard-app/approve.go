package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
)

// runApprove approves (or, with --deny, denies) a request to log in with
// the mobile ID, as the phone app's Approve does.
func runApprove(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("approve", "approve QR.png|LINK --match NN [--deny] [--profile NAME]",
		"Answer a request to log in with the mobile ID: read the login link from a PNG holding the QR code, or\ntake the link itself, and approve the login with the profile of that server, choosing the number NN the\nlogin page shows. The app refuses, without signing, a request of a server it holds no profile of.")
	match := fs.String("match", "", "the two-digit `NN` the login page shows")
	deny := fs.Bool("deny", false, "deny the login instead")
	profile := fs.String("profile", "", "answer with the profile `NAME`")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := fs.want(pos, 1, 1); err != nil {
		return err
	}
	if !*deny && (len(*match) != 2 || (*match)[0] < '0' || (*match)[0] > '9' || (*match)[1] < '0' || (*match)[1] > '9') {
		return usageError("approve", fmt.Errorf("--match needs the two-digit number the login page shows"))
	}
	link, err := readLink(pos[0])
	if err != nil {
		return err
	}
	baseURL, token, err := appclient.ParseLoginLink(link)
	if err != nil {
		return err
	}
	w, err := a.openWallet()
	if err != nil {
		return err
	}
	// The profile is chosen before anything is asked of the server: a
	// request of a server the wallet holds no profile of is refused here.
	id, err := authIdentity(w, baseURL, *profile)
	if err != nil {
		return err
	}
	p, err := w.Find(id.ProfileID)
	if err != nil {
		return err
	}
	client := a.client(baseURL)
	info, err := client.LoginInfo(ctx, token)
	if err != nil {
		return err
	}
	if info.Origin != appclient.Origin(baseURL) {
		return lanyard.Errorf(lanyard.EFORBIDDEN, "The login request is of %s, not of %s, whose link this is; nothing was signed.", info.Origin, appclient.Origin(baseURL))
	}
	decision := appclient.DecisionApprove
	if *deny {
		decision = appclient.DecisionDeny
	} else if !slices.Contains(info.Choices, *match) {
		return lanyard.Errorf(lanyard.EINVALID, "%s is not among the numbers this login request offers (%v); nothing was signed.", *match, info.Choices)
	}
	resp, err := client.AnswerLogin(ctx, token, p.MobileID, info, decision, *match, id.Key)
	if err != nil {
		return err
	}
	if resp.State != string(lanyard.LoginApproved) && !*deny {
		return lanyard.Errorf(lanyard.EUNAUTHORIZED, "The server did not approve the login: %s.", resp.State)
	}
	fmt.Fprintf(a.stdout, "%s: login %s for %s (%s)\n", p.ProfileName, resp.State, info.Browser, info.Address)
	return nil
}
