package options

import (
	"strings"

	"github.com/lanyard-id/lanyard"
)

// DefaultGetScript is the script MobileIDSelfServiceProcGet starts with.
// Administrators change its values rather than write a script of their
// own, so every option in it is required.
const DefaultGetScript = `# Get mobile ID (MobileIDSelfServiceProcGet)
issue_encryption_certificate = False
issue_signature_certificate = True
issue_authentication_certificate = True
user_may_choose_certificates = False
show_qr_code = True                      # False: send the QR code by email
validity_years = 2
encryption_recovery = "automatic"        # or "manual": a form to select them
recover_latest = 3
notify_user = True                       # about a successful or failed creation

def user_properties(user):
    return {
        "user_id": user.email,
        "server_name": "Smart ID",
        "profile_name": "MobileID " + user.common_name,
    }
`

// DefaultSupplyScript is the script MobileIDProcSupplyMobileIDForUser
// starts with: DefaultGetScript under its own header. show_qr_code is kept
// so that the two scripts stay alike, but it has no effect here.
var DefaultSupplyScript = strings.NewReplacer(
	"# Get mobile ID (MobileIDSelfServiceProcGet)\n",
	"# Supply mobile ID for user (MobileIDProcSupplyMobileIDForUser)\n"+
		"# An operator orders the mobile ID; the QR code always goes to the user by\n"+
		"# email, so show_qr_code has no effect in this process.\n",
	"show_qr_code = True                      # False: send the QR code by email",
	"show_qr_code = False                     # ignored: the QR code goes by email",
).Replace(DefaultGetScript)

// DefaultExpiringScript is the script MobileIDExpiring starts with.
const DefaultExpiringScript = `# Mobile ID expiring (MobileIDExpiring)
# Days before a mobile ID expires on which its user gets a reminder email.
email_before_expiring_days = [60, 30, 14, 7]
# True: after the last of those days, remind the user every day until expiry.
email_each_day_after_last = True
`

// DefaultScript returns the default script of process. An unknown process
// is an EINVALID error.
func DefaultScript(process string) (string, error) {
	switch process {
	case MobileIDSelfServiceProcGet:
		return DefaultGetScript, nil
	case MobileIDProcSupplyMobileIDForUser:
		return DefaultSupplyScript, nil
	case MobileIDExpiring:
		return DefaultExpiringScript, nil
	}
	return "", unknownProcess(process)
}

// unknownProcess is the error for a process name that has no script.
func unknownProcess(process string) error {
	return lanyard.Errorf(lanyard.EINVALID, "unknown process %s%s",
		quote(process), didYouMean(process, Processes()))
}
