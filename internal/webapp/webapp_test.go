package webapp_test

import (
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/lanyard-id/lanyard/internal/webapp"
)

func get(t *testing.T, path string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	webapp.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

func TestFiles(t *testing.T) {
	for _, c := range []struct{ path, typ string }{
		{"/wallet/", "text/html; charset=utf-8"},
		{"/wallet/app.js", "text/javascript; charset=utf-8"},
		{"/wallet/app.css", "text/css; charset=utf-8"},
		{"/wallet/sw.js", "text/javascript; charset=utf-8"},
		{"/wallet/manifest.webmanifest", "application/manifest+json"},
		{"/wallet/icon-192.png", "image/png"},
	} {
		t.Run(c.path, func(t *testing.T) {
			w := get(t, c.path)
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != c.typ || w.Body.Len() == 0 {
				t.Fatalf("status %d, type %q, %d bytes; want 200, %q", w.Code, w.Header().Get("Content-Type"), w.Body.Len(), c.typ)
			}
			if got := w.Header().Get("Content-Security-Policy"); got != webapp.ContentSecurityPolicy {
				t.Errorf("Content-Security-Policy %q", got)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control %q, want no-cache", got)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	for _, path := range []string{"/wallet/index.html", "/wallet/nothing.js", "/wallet/src/main.js", "/wallet/dist/app.js", "/wallet/static/app.css", "/wallet/package.json"} {
		if w := get(t, path); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, w.Code)
		}
	}
}

// The policy allows no inline script or style, loads nothing from
// elsewhere, and connects only to its own server and to HTTPS app APIs
// (plain HTTP on the loopback only).
func TestPolicyIsStrict(t *testing.T) {
	csp := webapp.ContentSecurityPolicy
	for _, d := range strings.Split(csp, ";") {
		fields := strings.Fields(d)
		if len(fields) == 0 {
			continue
		}
		allowed := map[string]bool{"'self'": true, "'none'": true, "data:": true, "blob:": true, "mediastream:": true, "'script'": true, "lanyard": true}
		if fields[0] == "connect-src" {
			allowed = map[string]bool{"'self'": true, "https:": true, "http://127.0.0.1:*": true, "http://localhost:*": true}
		}
		for _, src := range fields[1:] {
			if !allowed[src] {
				t.Errorf("%s allows %q", fields[0], src)
			}
		}
	}
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "style-src 'self';", "frame-ancestors 'none'", "require-trusted-types-for 'script'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("the policy lacks %q: %s", want, csp)
		}
	}
	page := get(t, "/wallet/").Body.String()
	for _, tag := range regexp.MustCompile(`<script[^>]*>[^<]*</script>`).FindAllString(page, -1) {
		if !strings.Contains(tag, ` src="`) || !strings.HasSuffix(tag, "></script>") {
			t.Errorf("the page has an inline script: %q", tag)
		}
	}
	if m := regexp.MustCompile(`\son[a-z]+=|\sstyle=|<style`).FindString(page); m != "" {
		t.Errorf("the page has an inline handler or style: %q", m)
	}
}

// The manifest meets what browsers ask of an installable app, and every
// icon it names is served in the size it says.
func TestManifest(t *testing.T) {
	var m struct {
		Name      string `json:"name"`
		ShortName string `json:"short_name"`
		StartURL  string `json:"start_url"`
		Scope     string `json:"scope"`
		Display   string `json:"display"`
		Icons     []struct {
			Src   string `json:"src"`
			Sizes string `json:"sizes"`
		} `json:"icons"`
	}
	if err := json.Unmarshal(get(t, "/wallet/manifest.webmanifest").Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m.Name == "" || m.ShortName == "" || m.StartURL != "./" || m.Scope != "./" || m.Display != "standalone" {
		t.Errorf("manifest %+v", m)
	}
	sizes := map[string]bool{}
	for _, icon := range m.Icons {
		w := get(t, "/wallet/"+icon.Src)
		img, err := png.Decode(w.Body)
		if err != nil {
			t.Errorf("icon %s: %v", icon.Src, err)
			continue
		}
		if got := img.Bounds().Size(); icon.Sizes != fmt.Sprintf("%dx%d", got.X, got.Y) {
			t.Errorf("icon %s is %v, the manifest says %s", icon.Src, got, icon.Sizes)
		}
		sizes[icon.Sizes] = true
	}
	if !sizes["192x192"] || !sizes["512x512"] {
		t.Errorf("icons %v, want 192x192 and 512x512", sizes)
	}
}

// Every file the service worker keeps for offline use is served.
func TestServiceWorkerShell(t *testing.T) {
	sw := get(t, "/wallet/sw.js")
	if got := sw.Header().Get("Service-Worker-Allowed"); got != webapp.Prefix {
		t.Errorf("Service-Worker-Allowed %q, want %q", got, webapp.Prefix)
	}
	m := regexp.MustCompile(`const SHELL = \[([^\]]+)\]`).FindStringSubmatch(sw.Body.String())
	if m == nil {
		t.Fatal("sw.js has no SHELL list")
	}
	for _, f := range regexp.MustCompile(`"([^"]+)"`).FindAllStringSubmatch(m[1], -1) {
		path := webapp.Prefix + strings.TrimPrefix(f[1], "./")
		if w := get(t, path); w.Code != http.StatusOK {
			t.Errorf("the service worker keeps %s, which answers %d", path, w.Code)
		}
	}
}
