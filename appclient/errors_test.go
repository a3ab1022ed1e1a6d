package appclient_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
)

func TestClientErrors(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		header      string // Retry-After
		body        string
		code, inMsg string
		retryAfter  time.Duration
	}{
		{"expired", 410, "", `{"error":{"code":"expired","message":"The activation code has expired."}}`, "expired", "has expired", 0},
		{"rate limited", 429, "7", `{"error":{"code":"rate_limited","message":"Wait."}}`, "rate_limited", "Wait.", 7 * time.Second},
		{"html from a proxy", 502, "", "<html>Bad Gateway</html>", "internal", "502", 0},
		{"json without code", 404, "", `{"message":"nope"}`, "internal", "404", 0},
		{"empty body", 500, "", "", "internal", "500", 0},
		{"code without message", 403, "", `{"error":{"code":"user_state"}}`, "user_state", "403", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.header != "" {
					w.Header().Set("Retry-After", tt.header)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			})
			_, err := client.Challenge(context.Background())
			var ae *appclient.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error = %v, want an *APIError", err)
			}
			if ae.Status != tt.status || ae.Code != tt.code || !strings.Contains(ae.Message, tt.inMsg) || ae.RetryAfter != tt.retryAfter {
				t.Errorf("APIError = %+v", *ae)
			}
			if lanyard.ErrorCode(err) != tt.code || !strings.Contains(err.Error(), tt.code) {
				t.Errorf("ErrorCode = %q, Error() = %q", lanyard.ErrorCode(err), err)
			}
		})
	}
}

func TestClientBadAnswers(t *testing.T) {
	for name, body := range map[string]string{
		"not json":  "<html>ok</html>",
		"too large": `{"challenge_id":"` + strings.Repeat("x", appclient.MaxResponseBody) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			client := fakeServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) })
			var ae *appclient.APIError
			if _, err := client.Challenge(context.Background()); err == nil || errors.As(err, &ae) {
				t.Errorf("error = %v; want a non-API error", err)
			}
		})
	}
	client := &appclient.Client{BaseURL: "http://127.0.0.1:1"}
	if _, err := client.Challenge(context.Background()); err == nil || !strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("unreachable server: %v", err)
	}
}
