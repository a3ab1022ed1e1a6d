package web

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lanyard-id/lanyard"
)

//go:embed templates static
var assets embed.FS

// pages holds one template per page, each parsed together with the layout.
type pages map[string]*template.Template

var funcs = template.FuncMap{
	"hasRole": func(u *lanyard.User, role string) bool { return u != nil && u.HasRole(lanyard.Role(role)) },
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	// searchForm bundles what the shared user search form needs.
	"searchForm": func(action, label string, data adminUsersView) map[string]any {
		return map[string]any{"Action": action, "Label": label, "Data": data}
	},
	"join": func(roles []lanyard.Role) string {
		s := make([]string, len(roles))
		for i, r := range roles {
			s[i] = string(r)
		}
		return strings.Join(s, ", ")
	},
}

func mustParsePages() pages {
	p := pages{}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		p[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/partials.html", n))
	}
	return p
}

func staticHandler() http.Handler {
	sub, _ := fs.Sub(assets, "static")
	fileServer := http.FileServer(http.FS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The stylesheet is public and versioned with the binary.
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	})
}

// view is what every page template gets.
type view struct {
	Title   string
	User    *lanyard.User
	Nav     string // the menu entry to highlight
	Notice  string // a success message
	Error   string // a message about what went wrong
	Data    any
	Request *http.Request
	// Refresh, when set, makes the page reload itself after that many
	// seconds (a page that waits for something, without script).
	Refresh int
	// Menu is the main menu for User and Nav; render fills it.
	Menu menu
}

// menu is what the main menu shows of a page: the entries the user has
// beyond everyone's, and which entry is the page's. Worked out before the
// page is rendered, it leaves the layout no function to call.
type menu struct {
	Operator, Admin bool // the entries of operators and of administrators
	At              struct{ Dashboard, MobileID, Applications, Operator, Admin bool }
}

func menuOf(u *lanyard.User, nav string) menu {
	var m menu
	if u != nil {
		m.Admin = u.HasRole(lanyard.RoleAdmin)
		m.Operator = m.Admin || u.HasRole(lanyard.RoleOperator)
	}
	switch nav {
	case "dashboard":
		m.At.Dashboard = true
	case "mobileid":
		m.At.MobileID = true
	case "applications":
		m.At.Applications = true
	case "operator":
		m.At.Operator = true
	case "admin":
		m.At.Admin = true
	}
	return m
}

// render writes a page with the given status. Templates are executed into
// a buffer first, so a template failure never sends half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	v.User = currentUser(r)
	v.Request = r
	v.Menu = menuOf(v.User, v.Nav)
	if r.Method == http.MethodGet && v.Notice == "" && v.Error == "" {
		f := s.takeFlash(w, r)
		v.Notice, v.Error = f.Notice, f.Error
	}
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer putPageBuffer(buf)
	if err := s.pages[name].Execute(buf, v); err != nil {
		s.Logger.Error("render page", "page", name, "err", err)
		http.Error(w, "An internal error occurred. It has been logged.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The length is known: the page goes out whole rather than in chunks,
	// as net/http sends a body of more than 2 kB written at once.
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// pageBuffers keeps the buffers pages are rendered into, so that a page
// does not grow a new one to its size each time.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledPage is the largest buffer kept for the next page: a long
// audit log or user list is not held on to.
const maxPooledPage = 64 << 10

func putPageBuffer(buf *bytes.Buffer) {
	if buf.Cap() > maxPooledPage {
		return
	}
	buf.Reset()
	pageBuffers.Put(buf)
}

// renderError shows a page with a plain message and the given status.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error", view{Title: http.StatusText(status), Error: msg})
}

// serverError logs an internal error once and shows a generic message:
// 503 with Retry-After while the database does not answer (it restarts,
// the network to it is down), so that users and load balancers know to
// try again, 500 otherwise.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	// A database too busy to take the write in time is unavailable too.
	if lanyard.ErrorCode(err) == lanyard.EUNAVAILABLE || s.unavailable(r.Context()) {
		s.Logger.Warn("request failed: the database is unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "5")
		s.renderError(w, r, http.StatusServiceUnavailable, unavailableMessage)
		return
	}
	s.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	s.renderError(w, r, http.StatusInternalServerError, lanyard.ErrorMessage(err))
}

// unavailableMessage is what a request that failed for want of the
// database shows.
const unavailableMessage = "Lanyard cannot reach its database at the moment. Please try again in a few seconds."

// unavailable reports whether the instance cannot serve for now, as
// /readyz says.
func (s *Server) unavailable(ctx context.Context) bool {
	if s.Ready == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	return s.Ready(ctx) != nil
}

// statusOf maps a domain error code to the HTTP status shown with it.
func statusOf(err error) int {
	switch lanyard.ErrorCode(err) {
	case lanyard.EINVALID, lanyard.EUSERSTATE, lanyard.EEXPIRED:
		return http.StatusBadRequest
	case lanyard.ENOTFOUND:
		return http.StatusNotFound
	case lanyard.ECONFLICT:
		return http.StatusConflict
	case lanyard.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case lanyard.EFORBIDDEN:
		return http.StatusForbidden
	case lanyard.ERATELIMITED:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// fail shows err: its message for domain errors, a generic one (and a log
// line) for internal errors.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if statusOf(err) == http.StatusInternalServerError {
		s.serverError(w, r, err)
		return
	}
	s.renderError(w, r, statusOf(err), lanyard.ErrorMessage(err))
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, http.StatusNotFound, "There is no page at this address.")
}

func (s *Server) handleCrossOrigin(w http.ResponseWriter, r *http.Request) {
	s.Logger.Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"), "addr", clientAddr(r))
	s.renderError(w, r, http.StatusForbidden, "This request came from another site and was refused.")
}
