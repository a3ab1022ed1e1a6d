package tlsserve

import (
	"net/http"
	"strings"
)

// Redirect answers every request with a redirect to the same path and
// query under publicURL: 301 for GET and HEAD, which every client follows,
// and 308 for other methods, which keeps the method and body.
func Redirect(publicURL string) http.Handler {
	base := strings.TrimRight(publicURL, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := http.StatusPermanentRedirect
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			code = http.StatusMovedPermanently
		}
		w.Header().Set("Location", base+r.URL.RequestURI())
		w.WriteHeader(code)
	})
}
