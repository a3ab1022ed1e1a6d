package appclient_test

import (
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/appclient"
)

func TestParseEnrollmentLink(t *testing.T) {
	tests := []struct {
		name, link, base, code string
		wantErr                string // part of the message; "" means success
	}{
		{name: "https", link: "https://id.example.com/app/v1/enroll?code=abc123", base: "https://id.example.com", code: "abc123"},
		{name: "http with port", link: "http://127.0.0.1:8080/app/v1/enroll?code=X-Y_z", base: "http://127.0.0.1:8080", code: "X-Y_z"},
		{name: "path prefix", link: "https://example.com/lanyard/app/v1/enroll?code=c", base: "https://example.com/lanyard", code: "c"},
		{name: "escaped code", link: "https://example.com/app/v1/enroll?code=a%2Bb%3D", base: "https://example.com", code: "a+b="},
		{name: "other parameters", link: "https://example.com/app/v1/enroll?lang=en&code=c", base: "https://example.com", code: "c"},
		{name: "white space", link: "  https://example.com/app/v1/enroll?code=c\n", base: "https://example.com", code: "c"},
		{name: "upper-case scheme", link: "HTTPS://example.com/app/v1/enroll?code=c", base: "https://example.com", code: "c"},
		{name: "empty", link: "", wantErr: "empty"},
		{name: "ftp", link: "ftp://example.com/app/v1/enroll?code=c", wantErr: "https://"},
		{name: "no scheme", link: "example.com/app/v1/enroll?code=c", wantErr: "https://"},
		{name: "mailto", link: "mailto:alice@example.com", wantErr: "https://"},
		{name: "no host", link: "https:///app/v1/enroll?code=c", wantErr: "no server"},
		{name: "user info", link: "https://id.example.com@evil.example/app/v1/enroll?code=c", wantErr: "user name"},
		{name: "wrong path", link: "https://example.com/app/v1/sync?code=c", wantErr: "/app/v1/enroll"},
		{name: "trailing slash", link: "https://example.com/app/v1/enroll/?code=c", wantErr: "/app/v1/enroll"},
		{name: "no path", link: "https://example.com?code=c", wantErr: "/app/v1/enroll"},
		{name: "missing code", link: "https://example.com/app/v1/enroll", wantErr: "no activation code"},
		{name: "empty code", link: "https://example.com/app/v1/enroll?code=", wantErr: "no activation code"},
		{name: "two codes", link: "https://example.com/app/v1/enroll?code=a&code=b", wantErr: "more than one"},
		{name: "bad query", link: "https://example.com/app/v1/enroll?code=%zz", wantErr: "query"},
		{name: "garbage", link: "\x00\x01 not a link", wantErr: "not a valid URL"},
		{name: "plain text", link: "hello world", wantErr: "https://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, code, err := appclient.ParseEnrollmentLink(tt.link)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseEnrollmentLink(%q) = %q, %q; want an error", tt.link, base, code)
				}
				if lanyard.ErrorCode(err) != lanyard.EINVALID || !strings.Contains(lanyard.ErrorMessage(err), tt.wantErr) {
					t.Errorf("error = %v; want an invalid error mentioning %q", err, tt.wantErr)
				}
				if strings.Contains(lanyard.ErrorMessage(err), "code=") {
					t.Errorf("error %q repeats the link", lanyard.ErrorMessage(err))
				}
				return
			}
			if err != nil || base != tt.base || code != tt.code {
				t.Errorf("ParseEnrollmentLink(%q) = %q, %q, %v; want %q, %q", tt.link, base, code, err, tt.base, tt.code)
			}
		})
	}
}

func TestEnrollmentLinkRoundTrip(t *testing.T) {
	for _, base := range []string{"https://id.example.com", "https://id.example.com/", "http://127.0.0.1:8080/lanyard"} {
		link := appclient.EnrollmentLink(base, "a+b/c=")
		gotBase, gotCode, err := appclient.ParseEnrollmentLink(link)
		if err != nil || gotBase != strings.TrimRight(base, "/") || gotCode != "a+b/c=" {
			t.Errorf("EnrollmentLink(%q) = %q, which parses to %q, %q, %v", base, link, gotBase, gotCode, err)
		}
	}
	if got := appclient.EnrollmentLink("https://x.example", "abc"); got != "https://x.example/app/v1/enroll?code=abc" {
		t.Errorf("EnrollmentLink = %q", got)
	}
}
