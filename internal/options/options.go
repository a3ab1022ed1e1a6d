package options

import "slices"

// The processes that have an option script. The names are the symbolic
// names administrators see in Admin and pass to `lanyard options`.
const (
	// MobileIDSelfServiceProcGet is "Get mobile ID": a self-service user
	// orders a mobile ID for themselves.
	MobileIDSelfServiceProcGet = "MobileIDSelfServiceProcGet"

	// MobileIDProcSupplyMobileIDForUser is "Supply mobile ID for user": an
	// operator orders a mobile ID on a user's behalf. It has the same
	// options as MobileIDSelfServiceProcGet, but the QR code always goes to
	// the user by email whatever show_qr_code says, because the operator
	// must never see the user's activation code; the caller enforces that.
	MobileIDProcSupplyMobileIDForUser = "MobileIDProcSupplyMobileIDForUser"

	// MobileIDExpiring is the background process that reminds users by
	// email that their mobile ID is about to expire.
	MobileIDExpiring = "MobileIDExpiring"
)

// Processes returns the names of all processes that have an option
// script, in the order Admin lists them.
func Processes() []string {
	return []string{MobileIDSelfServiceProcGet, MobileIDProcSupplyMobileIDForUser, MobileIDExpiring}
}

// IsProcess reports whether name is one of Processes.
func IsProcess(name string) bool {
	return slices.Contains(Processes(), name)
}

// The values of the encryption_recovery option.
const (
	// RecoveryAutomatic delivers the user's latest recover_latest
	// encryption certificates and keys to the new device in the background.
	RecoveryAutomatic = "automatic"

	// RecoveryManual shows the user a form to choose which archived
	// encryption certificates to recover.
	RecoveryManual = "manual"
)

// Result is what a script evaluates to: a MobileID for the two mobile ID
// processes and an Expiring for MobileIDExpiring.
type Result interface {
	// Map returns the result as a flat map keyed by the script's names,
	// the object `lanyard options test --json` prints.
	Map() map[string]any
}

// MobileID holds the options of MobileIDSelfServiceProcGet and
// MobileIDProcSupplyMobileIDForUser for one user. The JSON names are the
// script's names, so encoding a MobileID gives the same object as Map.
type MobileID struct {
	IssueEncryption     bool   `json:"issue_encryption_certificate"`
	IssueSignature      bool   `json:"issue_signature_certificate"`
	IssueAuthentication bool   `json:"issue_authentication_certificate"`
	UserMayChoose       bool   `json:"user_may_choose_certificates"`
	ShowQRCode          bool   `json:"show_qr_code"`
	ValidityYears       int    `json:"validity_years"`
	EncryptionRecovery  string `json:"encryption_recovery"`
	RecoverLatest       int    `json:"recover_latest"`
	NotifyUser          bool   `json:"notify_user"`

	// UserID, ServerName and ProfileName come from user_properties(user).
	UserID      string `json:"user_id"`
	ServerName  string `json:"server_name"`
	ProfileName string `json:"profile_name"`
}

// Map returns every option by its script name plus user_id, server_name
// and profile_name.
func (m MobileID) Map() map[string]any {
	return map[string]any{
		"issue_encryption_certificate":     m.IssueEncryption,
		"issue_signature_certificate":      m.IssueSignature,
		"issue_authentication_certificate": m.IssueAuthentication,
		"user_may_choose_certificates":     m.UserMayChoose,
		"show_qr_code":                     m.ShowQRCode,
		"validity_years":                   m.ValidityYears,
		"encryption_recovery":              m.EncryptionRecovery,
		"recover_latest":                   m.RecoverLatest,
		"notify_user":                      m.NotifyUser,
		"user_id":                          m.UserID,
		"server_name":                      m.ServerName,
		"profile_name":                     m.ProfileName,
	}
}

// Expiring holds the options of MobileIDExpiring for one user.
type Expiring struct {
	// EmailBeforeExpiringDays lists the days before expiry on which a
	// reminder is sent, largest first, without repeats.
	EmailBeforeExpiringDays []int `json:"email_before_expiring_days"`

	// EmailEachDayAfterLast sends a reminder every day from the last of
	// EmailBeforeExpiringDays until the mobile ID expires.
	EmailEachDayAfterLast bool `json:"email_each_day_after_last"`
}

// Map returns every option by its script name.
func (e Expiring) Map() map[string]any {
	return map[string]any{
		"email_before_expiring_days": slices.Clone(e.EmailBeforeExpiringDays),
		"email_each_day_after_last":  e.EmailEachDayAfterLast,
	}
}
