package appclient_test

import (
	"testing"

	"github.com/lanyard-id/lanyard/appclient"
)

func TestDevicePayload(t *testing.T) {
	tests := []struct {
		name, method, path string
		ts                 int64
		body, want         string
	}{
		{"get without body", "GET", "/app/v1/sync", 1764072000, "",
			"lanyard-device-v1\nGET\n/app/v1/sync\n1764072000\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"post with body and query", "POST", "/app/v1/x?a=1", 0, `{"code":"abc"}`,
			"lanyard-device-v1\nPOST\n/app/v1/x?a=1\n0\n18a0e82f72676e2882adfdeec381a71361ae009bf222d2311ddc40f5ae2c7424"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appclient.DevicePayload(tt.method, tt.path, tt.ts, []byte(tt.body))); got != tt.want {
				t.Errorf("DevicePayload = %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestAuthPayload(t *testing.T) {
	got := string(appclient.AuthPayload("https://id.example.com", "ch-1", "q83vASNFZ4k="))
	if want := "lanyard-auth-v2\nhttps://id.example.com\nch-1\nq83vASNFZ4k="; got != want {
		t.Errorf("AuthPayload = %q, want %q", got, want)
	}
}

func TestLoginPayload(t *testing.T) {
	got := string(appclient.LoginPayload("https://id.example.com", "req-1", "q83vASNFZ4k=", appclient.DecisionApprove, "07"))
	if want := "lanyard-login-v1\nhttps://id.example.com\nreq-1\nq83vASNFZ4k=\napprove\n07"; got != want {
		t.Errorf("LoginPayload = %q, want %q", got, want)
	}
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://ID.example.com":            "https://id.example.com",
		"https://id.example.com/lanyard/":   "https://id.example.com",
		"http://127.0.0.1:8080":             "http://127.0.0.1:8080",
		"HTTPS://id.example.com:8443/a?b=c": "https://id.example.com:8443",
		"not a url":                         "",
		"":                                  "",
	} {
		if got := appclient.Origin(in); got != want {
			t.Errorf("Origin(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeyDeliveryInfo(t *testing.T) {
	got := string(appclient.KeyDeliveryInfo("0A1bC"))
	if want := "lanyard key delivery v1\n0a1bc"; got != want {
		t.Errorf("KeyDeliveryInfo = %q, want %q", got, want)
	}
}
