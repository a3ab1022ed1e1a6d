package options

import (
	"slices"

	"github.com/lanyard-id/lanyard"
)

// spec describes the script of one process: the names it must set and
// how its values become a Result.
type spec struct {
	options []string // the option names, in the default script's order
	funcs   []string // the functions the engine calls
	extract func(r *reader) Result
}

// names returns every name the script must bind.
func (s *spec) names() []string { return slices.Concat(s.options, s.funcs) }

// has reports whether name is one of the script's names.
func (s *spec) has(name string) bool {
	return slices.Contains(s.options, name) || slices.Contains(s.funcs, name)
}

var mobileIDSpec = &spec{
	options: []string{
		"issue_encryption_certificate",
		"issue_signature_certificate",
		"issue_authentication_certificate",
		"user_may_choose_certificates",
		"show_qr_code",
		"validity_years",
		"encryption_recovery",
		"recover_latest",
		"notify_user",
	},
	funcs:   []string{"user_properties"},
	extract: extractMobileID,
}

var expiringSpec = &spec{
	options: []string{"email_before_expiring_days", "email_each_day_after_last"},
	extract: extractExpiring,
}

func specOf(process string) (*spec, error) {
	switch process {
	case MobileIDSelfServiceProcGet, MobileIDProcSupplyMobileIDForUser:
		return mobileIDSpec, nil
	case MobileIDExpiring:
		return expiringSpec, nil
	}
	return nil, unknownProcess(process)
}

// extractMobileID reads and checks the options of a mobile ID process.
func extractMobileID(r *reader) Result {
	m := MobileID{
		IssueEncryption:     r.bool("issue_encryption_certificate"),
		IssueSignature:      r.bool("issue_signature_certificate"),
		IssueAuthentication: r.bool("issue_authentication_certificate"),
		UserMayChoose:       r.bool("user_may_choose_certificates"),
		ShowQRCode:          r.bool("show_qr_code"),
		ValidityYears:       r.int("validity_years", 1, lanyard.MaxValidityYears),
		EncryptionRecovery:  r.choice("encryption_recovery", RecoveryAutomatic, RecoveryManual),
		RecoverLatest:       r.int("recover_latest", 0, 50),
		NotifyUser:          r.bool("notify_user"),
	}
	if r.err == nil && !m.IssueEncryption && !m.IssueSignature && !m.IssueAuthentication {
		r.failf("", "at least one of issue_encryption_certificate, issue_signature_certificate and issue_authentication_certificate must be True")
	}
	props := r.userProperties()
	m.UserID, m.ServerName, m.ProfileName = props["user_id"], props["server_name"], props["profile_name"]
	return m
}

// extractExpiring reads and checks the options of MobileIDExpiring.
func extractExpiring(r *reader) Result {
	e := Expiring{
		EmailBeforeExpiringDays: r.days("email_before_expiring_days", 1, 365),
		EmailEachDayAfterLast:   r.bool("email_each_day_after_last"),
	}
	if r.err == nil && e.EmailEachDayAfterLast && len(e.EmailBeforeExpiringDays) == 0 {
		r.failf("email_each_day_after_last", "email_each_day_after_last needs at least one day in email_before_expiring_days")
	}
	return e
}

// userPropertyNames are the keys user_properties must return, in order.
var userPropertyNames = []string{"user_id", "server_name", "profile_name"}
