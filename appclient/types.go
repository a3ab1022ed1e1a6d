package appclient

import "time"

// Binary values (keys, CSRs, certificates, signatures) are []byte: encoding/json
// writes them as standard base64 with padding, as the app API requires.

// Certificate usages as the app API names them.
const (
	UsageSignature      = "signature"
	UsageAuthentication = "authentication"
	UsageEncryption     = "encryption"
)

// EnrollRequest is the body of POST /app/v1/enroll.
type EnrollRequest struct {
	Code       string `json:"code"`
	DeviceName string `json:"device_name"`
	// TransportKey is the 32-byte X25519 public key the server seals the
	// keys it makes to.
	TransportKey []byte `json:"transport_key"`
	CSRs         CSRs   `json:"csrs"`
}

// CSRs are the PKCS #10 requests of an enrollment, DER, each signed by its
// own key. The app sends both; the server certifies those the process calls for.
type CSRs struct {
	Signature      []byte `json:"signature,omitempty"`
	Authentication []byte `json:"authentication,omitempty"`
}

// EnrollResponse is the answer to a successful enrollment.
type EnrollResponse struct {
	MobileID    string `json:"mobile_id"`
	State       string `json:"state"`
	ProfileName string `json:"profile_name"`
	ServerName  string `json:"server_name"`
	UserID      string `json:"user_id"`
	// Certificates are the signature and authentication certificates
	// made for the CSRs.
	Certificates []Certificate `json:"certificates"`
	// EncryptionKeys holds the new encryption certificate, if the process
	// makes one, with its key sealed to the transport key.
	EncryptionKeys []EncryptionKey `json:"encryption_keys"`
	// Chain is the issuing CA first, then the root, DER.
	Chain [][]byte `json:"chain"`
	// RecoveryPending is true while archived encryption keys are still to
	// be delivered; the app fetches them with a sync.
	RecoveryPending bool `json:"recovery_pending"`
}

// Certificate is a certificate the server made for a key the device made.
type Certificate struct {
	Usage string `json:"usage"`
	// Serial is the certificate's serial number in lower-case hex.
	Serial      string `json:"serial"`
	Certificate []byte `json:"certificate"`
}

// EncryptionKey is an encryption certificate with its server-made private
// key, sealed to the device's transport key (see SealKey).
type EncryptionKey struct {
	Serial      string `json:"serial"`
	Certificate []byte `json:"certificate"`
	// Recovered is true for an archived key delivered by recovery.
	Recovered bool   `json:"recovered"`
	SealedKey []byte `json:"sealed_key"`
}

// SyncResponse is the answer to GET /app/v1/sync: the mobile ID's state
// and every encryption key delivered to it so far.
type SyncResponse struct {
	MobileID        string          `json:"mobile_id"`
	State           string          `json:"state"`
	EncryptionKeys  []EncryptionKey `json:"encryption_keys"`
	RecoveryPending bool            `json:"recovery_pending"`
}

// ChallengeResponse is the answer to POST /app/v1/auth/challenge.
type ChallengeResponse struct {
	ChallengeID string `json:"challenge_id"`
	// Challenge is base64 text, kept as sent: AuthPayload signs the text.
	Challenge string    `json:"challenge"`
	ExpiresAt time.Time `json:"expires_at"`
}

// VerifyRequest is the body of POST /app/v1/auth/verify.
type VerifyRequest struct {
	ChallengeID string `json:"challenge_id"`
	// Certificate is the DER authentication certificate.
	Certificate []byte `json:"certificate"`
	// Signature is the ASN.1 ECDSA signature over AuthPayload.
	Signature []byte `json:"signature"`
}

// VerifyResponse names the user a challenge response authenticated.
type VerifyResponse struct {
	Username    string `json:"username"`
	UserID      string `json:"user_id"`
	CommonName  string `json:"common_name"`
	MobileID    string `json:"mobile_id"`
	ProfileName string `json:"profile_name"`
}

// LoginRequestRef names a login request by the secret token of its link.
type LoginRequestRef struct {
	Request string `json:"request"`
}

// LoginInfo is what the app shows of a login request before the user
// answers it: who asks, from where, when, and the numbers to choose from.
type LoginInfo struct {
	RequestID string `json:"request_id"`
	// Origin is the server's origin as the server knows it; the app signs
	// the origin it took from the link, which must be the same.
	Origin string `json:"origin"`
	// Browser and Address describe the browser that asked to log in.
	Browser   string    `json:"browser"`
	Address   string    `json:"address"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Challenge is base64 text, kept as sent: LoginPayload signs the text.
	Challenge string `json:"challenge"`
	// Choices are three two-digit numbers, one of them the number the
	// browser shows.
	Choices []string `json:"choices"`
}

// LoginAnswer is the body of POST /app/v1/login/answer.
type LoginAnswer struct {
	Request  string `json:"request"`
	MobileID string `json:"mobile_id"`
	Decision string `json:"decision"`
	Match    string `json:"match"`
	// Signature is the ASN.1 ECDSA signature over LoginPayload by the
	// mobile ID's authentication key.
	Signature []byte `json:"signature"`
}

// LoginAnswered is the answer to a login request's answer.
type LoginAnswered struct {
	State string `json:"state"`
}

// ErrorBody is the body of every error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the stable code of an error and a message for a person.
// Apps match on Code, never on Message.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
