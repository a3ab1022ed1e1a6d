package tlsserve_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard/internal/tlsserve"
)

func TestRedirect(t *testing.T) {
	h := tlsserve.Redirect("https://id.example.com/")
	cases := []struct {
		method, target string
		code           int
		location       string
	}{
		{"GET", "/", 301, "https://id.example.com/"},
		{"HEAD", "/login?next=%2Fmobile-id", 301, "https://id.example.com/login?next=%2Fmobile-id"},
		{"POST", "/login", 308, "https://id.example.com/login"},
		{"PUT", "/app/v1/x?a=1&b=2", 308, "https://id.example.com/app/v1/x?a=1&b=2"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.target, strings.NewReader("")))
			if w.Code != tc.code || w.Header().Get("Location") != tc.location {
				t.Fatalf("%d %s, want %d %s", w.Code, w.Header().Get("Location"), tc.code, tc.location)
			}
		})
	}
}
