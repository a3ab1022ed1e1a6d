// Package webapp serves Lanyard's phone app at /wallet/: an installable
// web app (manifest, icons, service worker) that holds mobile IDs and
// speaks only the public app API, as lanyard-app does.
//
// The app is plain JavaScript modules in src/, bundled with their npm
// libraries into dist/app.js by build.sh; the bundle is committed and
// embedded here, so that the server needs no npm at run time.
package webapp

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static dist/app.js
var files embed.FS

// Prefix is the path the app is served under.
const Prefix = "/wallet/"

// ContentSecurityPolicy is the app's policy: its own scripts, styles and
// images only; connections to its own server and to the HTTPS app APIs of
// the other Lanyard servers it may hold mobile IDs of (plain HTTP on the
// loopback only, for development); no inline script, no framing, and Trusted Types
// required so that no string can become markup or script; the one policy,
// "lanyard", admits the service worker's URL alone.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"media-src 'self' blob: mediastream:; connect-src 'self' https: http://127.0.0.1:* http://localhost:*; manifest-src 'self'; worker-src 'self'; " +
	"form-action 'none'; frame-ancestors 'none'; base-uri 'none'; require-trusted-types-for 'script'; trusted-types lanyard"

// types are the content types of the app's files, fixed here rather than
// taken from the system's MIME tables.
var types = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".png":         "image/png",
	".webmanifest": "application/manifest+json",
}

// Handler serves the app's files under Prefix. Every answer carries the
// app's Content-Security-Policy and asks the browser to revalidate, so
// that a new version of the server reaches phones at the next start.
func Handler() http.Handler {
	staticFS, err := fs.Sub(files, "static")
	if err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, Prefix)
		if name == "" {
			name = "index.html"
		}
		var b []byte
		var err error
		if name == "app.js" {
			b, err = files.ReadFile("dist/app.js")
		} else if !strings.Contains(name, "/") {
			b, err = fs.ReadFile(staticFS, name)
		} else {
			err = fs.ErrNotExist
		}
		if err != nil || name == "index.html" && r.URL.Path != Prefix {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Type", types[path.Ext(name)])
		if name == "sw.js" {
			h.Set("Service-Worker-Allowed", Prefix)
		}
		w.Write(b)
	})
}
