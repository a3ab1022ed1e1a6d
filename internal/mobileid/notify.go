package mobileid

import (
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
)

// codeMail is the mail with the QR code and link of an activation.
func codeMail(u *lanyard.User, link string, expires time.Time) (lanyard.Mail, error) {
	png, side, err := mailQRCode(link)
	if err != nil {
		return lanyard.Mail{}, err
	}
	text := fmt.Sprintf("Hello %s,\n\nscan the attached QR code with the mobile app to activate your mobile ID,\n"+
		"or open this link on your phone:\n\n%s\n\nThe code works once and expires at %s.\n"+
		"If you did not ask for a mobile ID, ignore this mail and tell your administrator.\n",
		u.CommonName, link, expires.Format("2006-01-02 15:04 UTC"))
	html := fmt.Sprintf(`<p>Hello %s,</p><p>scan this QR code with the mobile app to activate your mobile ID:</p>`+
		`<p><img src="cid:image" alt="QR code" width="%d" height="%d"></p><p>or open this link on your phone: <a href="%s">%s</a></p>`+
		`<p>The code works once and expires at %s.</p>`,
		html.EscapeString(u.CommonName), side, side, html.EscapeString(link), html.EscapeString(link), expires.Format("2006-01-02 15:04 UTC"))
	return lanyard.Mail{To: u.Email, Subject: "Activate your mobile ID", Text: text, HTML: html, ImagePNG: png, Kind: "qr_code"}, nil
}

// createdMail tells the user their mobile ID is active.
func createdMail(u *lanyard.User, m *lanyard.MobileID) lanyard.Mail {
	text := fmt.Sprintf("Hello %s,\n\nyour mobile ID %q is now active on the device %q.\n"+
		"If this was not you, lock it in Self-Service at once and tell your administrator.\n", u.CommonName, m.ProfileName, m.DeviceName)
	return lanyard.Mail{To: u.Email, Subject: "Your mobile ID is active", Text: text, HTML: textToHTML(text), Kind: "created"}
}

// failedMail tells the user a creation failed, and why.
func failedMail(u *lanyard.User, reason string) lanyard.Mail {
	text := fmt.Sprintf("Hello %s,\n\nyour mobile ID could not be created:\n\n%s\n\nPlease try again or ask your administrator.\n", u.CommonName, reason)
	return lanyard.Mail{To: u.Email, Subject: "Your mobile ID could not be created", Text: text, HTML: textToHTML(text), Kind: "failed"}
}

// mailsIf returns the mail when notify is set, for the variadic mails of
// the store's methods.
func mailsIf(notify bool, m lanyard.Mail) []lanyard.Mail {
	if !notify {
		return nil
	}
	return []lanyard.Mail{m}
}

// textToHTML gives a plain-text mail its HTML alternative: paragraphs at
// blank lines, line breaks kept, everything escaped.
func textToHTML(text string) string {
	var b strings.Builder
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(para), "\n", "<br>") + "</p>")
	}
	return b.String()
}

// expiringMail reminds the user that their mobile ID m expires at expires,
// daysLeft calendar days from today, and tells them how to get a new one in
// Self-Service at portal.
func expiringMail(u *lanyard.User, m *lanyard.MobileID, expires time.Time, daysLeft int, portal string) lanyard.Mail {
	when := fmt.Sprintf("in %d days", daysLeft)
	switch daysLeft {
	case 0:
		when = "today"
	case 1:
		when = "tomorrow"
	}
	text := fmt.Sprintf("Hello %s,\n\nyour mobile ID %q on the device %q expires %s, at %s.\n"+
		"From then on its certificates are no longer valid, and you cannot sign or log in with it.\n\n"+
		"Get a new mobile ID before then: log in to Self-Service at\n\n%s\n\n"+
		"choose Get Mobile ID and follow the steps. Self-Service offers to lock this mobile ID\n"+
		"when you do; the new one on your phone then takes its place.\n",
		u.CommonName, m.ProfileName, m.DeviceName, when, expires.UTC().Format("2006-01-02 15:04 UTC"), portal)
	return lanyard.Mail{To: u.Email, Subject: "Your mobile ID expires " + when, Text: text, HTML: textToHTML(text), Kind: "expiring"}
}
